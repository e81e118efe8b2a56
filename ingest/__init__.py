"""Camera sources to timestamped frames, reconnects and camera health."""
