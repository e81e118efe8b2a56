"""The embedded Kafka-protocol broker (Tansu) and the conditional-write shim of its storage."""
