"""Operator tools: dead letters, waiting events, view rebuilds (CLI: `python -m infra.ops`)."""
