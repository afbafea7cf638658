"""Faust adapters: topics, tables and agents that wire Kafka to the pure core."""
