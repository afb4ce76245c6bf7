"""Kafka wiring every service shares: broker, consumer runtime, dead letters, outbox relay."""
