"""The library API and the store. ``Workflow.open(db)`` is where a Python caller starts.

Importing any module of the package imports the whole facade (the store's libraries included): the
CLI's `--help`, `--version` and usage errors import none of it.
"""

from __future__ import annotations

from workflow.api import Workflow
from workflow.clock import PARIS, Clock, FixedClock
from workflow.context import Context
from workflow.errors import ChangedMeanwhile, Forbidden, Invalid, NotFound, PreincubError, Refused, StoreError

__all__ = ["PARIS", "ChangedMeanwhile", "Clock", "Context", "FixedClock", "Forbidden", "Invalid", "NotFound",
           "PreincubError", "Refused", "StoreError", "Workflow"]
