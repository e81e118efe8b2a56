"""Everything on Kafka: schemas, publisher with spool, terminal feeds, correlator, audit."""
