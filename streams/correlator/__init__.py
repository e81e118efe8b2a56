"""The correlator: access events joined with the container table, classified, sent as alerts."""
