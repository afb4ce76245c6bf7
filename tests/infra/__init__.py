"""Tests of the local infrastructure tooling (infra/, docker-compose.yml)."""
