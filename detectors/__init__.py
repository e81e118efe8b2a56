"""Frames to detections, tracks and zone events."""
