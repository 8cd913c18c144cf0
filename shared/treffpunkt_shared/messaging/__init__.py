"""Messaging over RabbitMQ (or kombu's in-memory transport when embedded)."""
