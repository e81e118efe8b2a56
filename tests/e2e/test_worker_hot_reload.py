"""A running worker takes a changed site file without a restart, and refuses a broken one."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

import pytest

from config.kafka import Kafka
from config.loading import load_site
from streams.topics import ACCESS
from streams.worker.worker import Worker
from tests.e2e.worker_support import frames_processed, read_topic, wait_for

pytestmark = pytest.mark.e2e

# Nobody walks on the lawn behind the cordon; everybody crosses the middle of the plaza.
LAWN = "[[310, 110], [560, 114], [590, 122], [420, 138], [330, 140]]"
PLAZA = "[[0, 150], [768, 150], [768, 450], [0, 450]]"


def site_text(kafka: Kafka, data_dir: Path, footage: Path, polygon: str) -> str:
    return f"""\
site: {{id: rtm-reload}}
data_dir: {data_dir}
cameras:
  - id: quay-cam-1
    source: {footage}
    target_fps: 5
    realtime: false
    loop: true
    start_time: "2026-03-14T02:00:00+01:00"
zones:
  - id: watched
    camera: quay-cam-1
    polygon: {polygon}
kafka:
  bootstrap_servers: {list(kafka.bootstrap_servers)}
  topic_prefix: {kafka.topic_prefix}
metrics: {{worker_port: 0}}
"""


def rewrite(path: Path, text: str) -> None:
    before = path.stat().st_mtime_ns
    path.write_text(text)
    # a file system with coarse timestamps must still show the change
    os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_moved_zone_changes_events_live_and_broken_config_is_refused(
    kafka_settings: Kafka,
    tmp_path: Path,
    footage_path: Path,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = tmp_path / "site.yaml"
    config.write_text(site_text(kafka_settings, data_dir, footage_path, LAWN))
    first_hash = load_site(config).config_hash()
    worker = Worker(load_site(config), config_path=config)
    camera = worker.camera_workers[0]

    def processed() -> float:
        return frames_processed(worker, "quay-cam-1")

    def access() -> list[dict]:
        return read_topic(kafka_settings, ACCESS, idle_s=1.5)

    runner = threading.Thread(target=worker.run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: processed() >= 6, 180, "six frames analysed with the lawn zone")
        assert access() == [], "nobody walks on the lawn: no event before the move"

        rewrite(config, site_text(kafka_settings, data_dir, footage_path, PLAZA))
        moved_hash = load_site(config).config_hash()
        wait_for(lambda: camera.config_hash == moved_hash, 60, "the camera to take the moved zone")
        wait_for(lambda: len(access()) > 0, 180, "events from the zone on the plaza")
        events = access()
        assert {event["zone_id"] for event in events} == {"watched"}
        assert {event["config_hash"] for event in events} == {moved_hash} != {first_hash}

        caplog.set_level(logging.ERROR, logger="streams.worker")
        broken = site_text(kafka_settings, data_dir, footage_path, "[[0, 150], [768, 150]]")
        rewrite(config, broken)
        wait_for(lambda: "config reload refused" in caplog.text, 30, "the refusal in the log")
        assert f"{config}:" in caplog.text and "polygon" in caplog.text
        before = processed()
        wait_for(lambda: processed() >= before + 3, 120, "frames after the refusal")
        assert runner.is_alive()
        assert camera.config_hash == moved_hash == worker.config_hash
        assert {event["config_hash"] for event in access()} == {moved_hash}
    finally:
        worker.stop()
        runner.join(timeout=60)
        worker.publisher.close()
