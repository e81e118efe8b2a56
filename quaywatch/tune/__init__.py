"""Detector tuning: a site config run over recorded footage, measured, drawn and compared."""
