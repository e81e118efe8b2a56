"""Detectors over recorded footage: MOT labels, scoring, run summaries, the tune run and what
it writes; the drawing is the annotator's (detectors/annotate.py)."""
