"""The library API and the store. ``Workflow.open(db)`` is where a Python caller starts.

Names are imported on first use (PEP 562): ``import workflow.errors`` or ``workflow.clock`` alone
loads no SQLAlchemy, so the CLI answers ``--help`` and usage errors at once.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "Workflow": "api", "Context": "context", "PARIS": "clock", "Clock": "clock", "FixedClock": "clock",
    "ChangedMeanwhile": "errors", "Forbidden": "errors", "Invalid": "errors", "NotFound": "errors",
    "PreincubError": "errors", "Refused": "errors", "StoreError": "errors",
}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'workflow' has no attribute {name!r}")
    value = getattr(import_module(f"workflow.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
