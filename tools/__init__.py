"""Maintenance scripts, run from the checkout (``python -m tools.NAME``): above every layer of preincub,
since they read all of it."""
