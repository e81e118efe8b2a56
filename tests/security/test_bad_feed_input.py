"""Hostile files through the real `quaywatch terminal ingest` onto the real embedded broker: the
bad part of a feed is a dead letter with its location, everything valid around it is on
`terminal`, and the command ends with one clear line, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from config.kafka import Kafka
from streams.dead_letter import DeadLetter
from streams.terminal.events import ContainerEvent
from streams.terminal.publish import MAX_DEAD_LETTERS
from streams.topics import DEAD_LETTER, TERMINAL
from tests.fixtures.port_story import container_number, story_site
from tests.integration.test_correlator_feeds import read_topic
from tests.unit.test_terminal_adapters import dcsa_discharge
from tests.unit.test_terminal_bad_input import TWO_MESSAGES, deep

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
PNG_START = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


@dataclass(frozen=True)
class Ingested:
    returncode: int
    stdout: str
    stderr: str


def ingest(
    kafka: Kafka, directory: Path, feed_format: str, feed: bytes, stdin: bool = False
) -> Ingested:
    """`quaywatch terminal ingest` of `feed`, from a file or from stdin, as a real process."""
    site = directory / "site.yaml"
    site.write_text(yaml.safe_dump(story_site(kafka).model_dump(mode="json")))
    path = directory / f"feed.{feed_format}"
    path.write_bytes(feed)
    command = [sys.executable, "-m", "quaywatch", "terminal", "ingest", "--config", str(site)]
    command += ["--format", feed_format, "-" if stdin else str(path)]
    done = subprocess.run(
        command, cwd=REPO, input=feed if stdin else b"", capture_output=True, timeout=120
    )
    decoded = (done.stdout.decode(errors="replace"), done.stderr.decode(errors="replace"))
    return Ingested(done.returncode, *decoded)


def terminal_events(kafka: Kafka, count: int) -> list[ContainerEvent]:
    return [TERMINAL.decode(value) for value in read_topic(kafka, TERMINAL, count)]


def dead_letters(kafka: Kafka, count: int) -> list[DeadLetter]:
    return [DEAD_LETTER.decode(value) for value in read_topic(kafka, DEAD_LETTER, count)]


def assert_no_traceback(done: Ingested) -> None:
    assert "Traceback" not in done.stderr + done.stdout, done.stderr


def test_a_deep_item_in_a_dcsa_array_costs_only_itself(kafka_settings: Kafka, tmp_path) -> None:
    numbers = [container_number(serial) for serial in (1, 2, 3)]
    valid = [
        json.dumps(dcsa_discharge(eventID=f"valid-{n}", equipmentReference=number))
        for n, number in enumerate(numbers)
    ]
    feed = "[" + ",".join([valid[0], deep(1_000), valid[1], valid[2]]) + "]"
    done = ingest(kafka_settings, tmp_path, "dcsa", feed.encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "3 container events, 1 rejected"
    assert_no_traceback(done)
    events = terminal_events(kafka_settings, 3)
    assert sorted(event.container_number for event in events) == sorted(numbers)
    [letter] = dead_letters(kafka_settings, 1)
    assert (letter.source, letter.location) == ("dcsa", "item 1")
    assert "1000 levels deep" in letter.reason and letter.raw.startswith("[[[")


def test_a_coarri_cut_inside_its_second_message_keeps_the_first_messages_containers(
    kafka_settings: Kafka, tmp_path
) -> None:
    cut = TWO_MESSAGES[: TWO_MESSAGES.index("TCNU7200794") + 6]
    done = ingest(kafka_settings, tmp_path, "coarri", cut.encode(), stdin=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "2 container events, 2 rejected"
    assert_no_traceback(done)
    events = terminal_events(kafka_settings, 2)
    assert sorted(event.container_number for event in events) == ["CSQU3054383", "TOLU4734787"]
    letters = {letter.location: letter for letter in dead_letters(kafka_settings, 2)}
    assert set(letters) == {"message 1 container 2", "message 2 segment 3"}
    assert "cut short inside segment 3" in letters["message 2 segment 3"].reason
    assert letters["message 2 segment 3"].raw.startswith("UNH+2+COARRI")


@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_a_binary_file_is_refused_with_one_line_and_nothing_published(
    kafka_settings: Kafka, tmp_path, stdin: bool
) -> None:
    done = ingest(kafka_settings, tmp_path, "dcsa", PNG_START, stdin=stdin)
    assert done.returncode == 2
    assert_no_traceback(done)
    [line] = done.stderr.strip().splitlines()
    name = "stdin" if stdin else str(tmp_path / "feed.dcsa")
    assert line.startswith(f"quaywatch terminal ingest: {name} refused, not text")
    assert "byte 0x89 at offset 0" in line
    assert read_topic(kafka_settings, TERMINAL, 1, timeout_s=2) == []
    assert read_topic(kafka_settings, DEAD_LETTER, 1, timeout_s=2) == []


def test_a_flood_of_rejects_is_capped_with_one_summary(kafka_settings: Kafka, tmp_path) -> None:
    broken = 150
    lines = ["{broken"] * broken + [json.dumps(dcsa_discharge())]
    done = ingest(kafka_settings, tmp_path, "dcsa", "\n".join(lines).encode())
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == f"1 container events, {broken} rejected"
    [event] = terminal_events(kafka_settings, 1)
    assert event.container_number == "CSQU3054383"
    letters = dead_letters(kafka_settings, MAX_DEAD_LETTERS + 1)
    assert len(letters) == MAX_DEAD_LETTERS + 1
    [summary] = [letter for letter in letters if "more items" in letter.reason]
    assert summary.reason.startswith(f"{broken - MAX_DEAD_LETTERS} more items of this input")
    assert summary.location == f"line {MAX_DEAD_LETTERS + 1}"
    assert f"line {MAX_DEAD_LETTERS + 1}, line {MAX_DEAD_LETTERS + 2}" in summary.reason
