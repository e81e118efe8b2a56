"""The attacker's checklist, run against the real endpoints: forged, oversized, slow, many."""
