"""Subcommands of the quaywatch command, one module each."""
