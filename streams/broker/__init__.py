"""The embedded Kafka-protocol broker (Tansu), the shim of its storage, and it as a service."""
