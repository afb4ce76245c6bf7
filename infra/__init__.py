"""Local infrastructure for development and tests: Kafka, PostgreSQL and the services.

`python -m infra.local --help` is the entry point; `make` drives it.
"""
