#!/bin/sh
# Grants each quaywatch role's Kafka principal what it needs and nothing more: WRITE (and
# DESCRIBE) on the topics whose records consumers accept from that role (streams/topics.py),
# READ on what it consumes, and the correlators' consumer group. Run it with kafka-acls.sh of
# the Kafka image after the topics exist, as the admin (a super user of the cluster):
#   KAFKA_BOOTSTRAP=host:port ADMIN_CONFIG=admin.properties TOPIC_PREFIX=quaywatch. \
#     sh kafka-acls.sh
# Adding an ACL that exists already changes nothing, so the script may run on every start.
set -eu

acl() {
  principal=$1
  shift
  /opt/kafka/bin/kafka-acls.sh --bootstrap-server "$KAFKA_BOOTSTRAP" \
    --command-config "$ADMIN_CONFIG" --add --allow-principal "User:$principal" "$@"
}
grant_write() { acl "$1" --operation WRITE --operation DESCRIBE --topic "$TOPIC_PREFIX$2"; }
grant_read() { acl "$1" --operation READ --operation DESCRIBE --topic "$TOPIC_PREFIX$2"; }

grant_write camera access
grant_write camera camera-health
grant_write terminal terminal
grant_write terminal dead-letter
grant_write correlator alerts
grant_write correlator dead-letter
grant_write correlator correlator-checkpoints
grant_write console operator-actions
grant_write console dead-letter
# Every role publishes the heads of its own chains (streams/chain_heads.py).
grant_write camera chain-heads
grant_write terminal chain-heads
grant_write correlator chain-heads
grant_write console chain-heads

grant_read correlator access
grant_read correlator terminal
grant_read correlator alerts
grant_read correlator dead-letter
grant_read correlator correlator-checkpoints
grant_read console alerts
grant_read console operator-actions
grant_read console camera-health
grant_read console access
grant_read console terminal

# Correlators join one group per site (quaywatch-correlator.<site id>); the console reads
# without a group.
acl correlator --operation READ --group quaywatch-correlator. --resource-pattern-type prefixed
