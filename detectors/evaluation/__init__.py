"""Detectors over recorded footage: MOT labels, scoring, tallies and the tune run."""
