"""The benchmarks: scripts that build big stores and compare each path with its fair raw baseline.

Each runs on its own (``python benchmarks/engine.py``) or all together (``python -m benchmarks``);
``python -m benchmarks.readme`` regenerates the README's Performance table from their JSON. Never
part of the test suite, apart from one smoke test per script (``tests/benchmarks/``).
"""
