"""The library. A Python caller starts at :class:`workflow.api.Workflow` (``Workflow.open(db)``).

The package imports nothing itself, so a module of it costs only what that module needs.
"""
