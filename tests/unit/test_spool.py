"""The on-disk spool keeps undelivered events in order, across restarts and torn writes, bounded."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.spool import Spool, SpoolError, SpoolFull
from streams.spool_format import SpoolRecord


def record(number: int, key: str = "quay-north", size: int = 0) -> SpoolRecord:
    return SpoolRecord(
        topic="quaywatch.access",
        key=key,
        value=f'{{"event_id": "evt-{number:05d}"}}'.encode() + b" " * size,
        headers=(("schema", b"access-event/1"),),
    )


def values(spool: Spool, limit: int = 10_000) -> list[bytes]:
    return [pending.record.value for pending in spool.peek(limit)]


def deliver(spool: Spool, count: int) -> None:
    """Acknowledge the oldest `count` records, as the publisher does after Kafka took them."""
    batch = spool.peek(count)
    assert len(batch) == count
    spool.ack(batch[-1])


def test_records_come_back_in_append_order_with_every_field(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    written = [record(n, key=f"zone-{n % 3}") for n in range(50)]
    for item in written:
        spool.append(item)

    assert [pending.record for pending in spool.peek(100)] == written
    assert spool.depth == 50


def test_peek_is_bounded_and_does_not_consume(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    for n in range(10):
        spool.append(record(n))

    assert values(spool, 3) == [record(n).value for n in range(3)]
    assert values(spool, 3) == [record(n).value for n in range(3)]
    assert spool.depth == 10


def test_acknowledged_records_are_not_returned_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    for n in range(10):
        spool.append(record(n))

    deliver(spool, 4)

    assert values(spool) == [record(n).value for n in range(4, 10)]
    assert spool.depth == 6


def test_undelivered_records_survive_reopening_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=300)
    for n in range(40):
        spool.append(record(n))
    deliver(spool, 15)
    spool.close()

    reopened = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=300)

    assert values(reopened) == [record(n).value for n in range(15, 40)]
    assert reopened.depth == 25
    reopened.append(record(40))
    assert values(reopened)[-1] == record(40).value


def test_fully_delivered_segments_are_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=300)
    for n in range(40):
        spool.append(record(n))
    segments_before = len(list(tmp_path.glob("segment-*.log")))

    deliver(spool, 40)
    spool.append(record(40))

    assert segments_before > 3
    assert len(list(tmp_path.glob("segment-*.log"))) <= 2
    assert values(spool) == [record(40).value]
    assert spool.depth == 1


def test_torn_tail_after_a_crash_is_dropped_and_the_rest_kept(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    for n in range(5):
        spool.append(record(n))
    spool.close()
    [segment] = tmp_path.glob("segment-*.log")
    whole = segment.read_bytes()
    torn = whole[: len(whole) - 7]  # the last append died half way
    segment.write_bytes(torn)

    reopened = Spool(tmp_path, max_bytes=1 << 20)

    assert values(reopened) == [record(n).value for n in range(4)]
    assert reopened.dropped_bytes > 0
    reopened.append(record(99))
    assert values(reopened) == [record(n).value for n in (0, 1, 2, 3, 99)]
    reopened.close()
    assert values(Spool(tmp_path, max_bytes=1 << 20)) == [record(n).value for n in (0, 1, 2, 3, 99)]


def test_zero_filled_tail_is_not_mistaken_for_records(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append(record(0))
    spool.close()
    [segment] = tmp_path.glob("segment-*.log")
    with open(segment, "ab") as handle:
        handle.write(b"\0" * 4096)  # what some file systems leave after a power cut

    reopened = Spool(tmp_path, max_bytes=1 << 20)

    assert values(reopened) == [record(0).value]
    assert reopened.depth == 1


def test_flipped_bit_in_the_last_record_fails_its_check(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append(record(0))
    spool.append(record(1))
    spool.close()
    [segment] = tmp_path.glob("segment-*.log")
    data = bytearray(segment.read_bytes())
    data[-3] ^= 0x01
    segment.write_bytes(bytes(data))

    assert values(Spool(tmp_path, max_bytes=1 << 20)) == [record(0).value]


def test_full_spool_refuses_the_newest_record_and_keeps_the_older_ones(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=2_000)
    kept = 0
    with pytest.raises(SpoolFull, match=rf"spool {tmp_path}: full"):
        for n in range(1_000):
            spool.append(record(n, size=100))
            kept += 1

    assert 0 < kept < 1_000
    assert spool.pending_bytes <= 2_000
    assert values(spool) == [record(n, size=100).value for n in range(kept)]


def test_delivering_makes_room_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=2_000, segment_bytes=500)
    kept = 0
    with pytest.raises(SpoolFull):
        while True:
            spool.append(record(kept, size=100))
            kept += 1

    deliver(spool, kept)
    spool.append(record(kept, size=100))

    assert values(spool) == [record(kept, size=100).value]


def test_bound_holds_across_reopening(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=2_000)
    with pytest.raises(SpoolFull):
        while True:
            spool.append(record(0, size=100))
    spool.close()

    with pytest.raises(SpoolFull):
        Spool(tmp_path, max_bytes=2_000).append(record(1, size=100))


def test_record_bigger_than_the_whole_spool_is_refused(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1_024)

    with pytest.raises(SpoolFull, match="refusing a new"):
        spool.append(record(0, size=2_000))
    assert spool.depth == 0


def test_failed_append_leaves_no_half_record_in_front_of_later_ones(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append(record(0))
    real_writer = spool._writer

    class DiskFull:
        """Writes half of what it is given, then fails as a full disk does."""

        def write(self, data: bytes) -> int:
            real_writer.write(data[: len(data) // 2])
            real_writer.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name: str) -> object:
            return getattr(real_writer, name)

    spool._writer = DiskFull()  # type: ignore[assignment]
    with pytest.raises(SpoolError, match="No space left"):
        spool.append(record(1))
    spool.append(record(2))
    spool.close()

    assert values(Spool(tmp_path, max_bytes=1 << 20)) == [record(0).value, record(2).value]


def test_damage_inside_an_older_segment_is_kept_aside_and_the_rest_still_delivered(
    tmp_path: Path,
) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=300)
    for n in range(20):
        spool.append(record(n))
    spool.close()
    first = sorted(tmp_path.glob("segment-*.log"))[0]
    data = bytearray(first.read_bytes())
    data[len(data) // 2] ^= 0xFF
    first.write_bytes(bytes(data))

    reopened = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=300)
    delivered = values(reopened)

    assert first.with_suffix(".corrupt").read_bytes() == bytes(data)
    assert reopened.dropped_bytes > 0
    assert delivered[0] == record(0).value
    assert delivered[-1] == record(19).value
    assert delivered == sorted(delivered)
    assert 10 < len(delivered) < 20
