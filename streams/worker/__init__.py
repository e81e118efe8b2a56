"""The camera worker: frames from ingest through the detectors to access events on Kafka."""
