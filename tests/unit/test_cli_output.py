"""Output read by another program: a reader that has gone away (`quaywatch config schema |
head`) ends the command quietly, with the status a SIGPIPE gives, not a BrokenPipeError."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from quaywatch.cli import READER_GONE


@pytest.mark.parametrize(
    "command",
    [["config", "schema"], ["config", "check", "config/sites/demo.yaml"]],
)
def test_output_to_a_reader_that_went_away_ends_quietly(command: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # gone before the command writes a byte: every write meets it
    try:
        result = subprocess.run(
            [sys.executable, "-m", "quaywatch", *command],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)

    assert result.stderr == ""
    assert result.returncode == READER_GONE
