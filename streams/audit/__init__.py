"""Audit: replay recorded inputs through the correlator, verify the chains, report, export."""
