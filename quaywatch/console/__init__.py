"""The operator console: a web page over the alerts, camera-health and operator-actions topics."""
