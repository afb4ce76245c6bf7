"""Operator tools: `python -m shared.ops --help`."""
