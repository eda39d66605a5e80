"""Benchmarks: scripts that print figures (``python -m bench.<name>``); see README.md."""
