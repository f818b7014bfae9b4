"""The library API and the store. ``Workflow.open(db)`` is where a Python caller starts."""

from workflow.api import Workflow
from workflow.clock import PARIS, Clock, FixedClock
from workflow.context import Context
from workflow.errors import (
           ChangedMeanwhile,
           Forbidden,
           Invalid,
           NotFound,
           PreincubError,
           Refused,
           StoreError,
)

__all__ = ["PARIS", "ChangedMeanwhile", "Clock", "Context", "FixedClock", "Forbidden", "Invalid", "NotFound",
           "PreincubError", "Refused", "StoreError", "Workflow"]
