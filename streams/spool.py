"""A bounded, crash-safe, append-only queue on disk for events that are not yet in Kafka.

Layout of the spool directory:

- ``segment-<id>.log``: records in append order, each in a checksummed frame
  (`streams.spool_format`), so a record torn by a crash (or a zero-filled tail) fails its
  check and is dropped cleanly.
- ``cursor.json``: the position of the first record not yet acknowledged, replaced
  atomically. Acknowledged records stay in their segment until the whole segment is
  acknowledged; then the segment file is deleted.

Every append and every acknowledgement is fsync'd before it returns. The bound counts the
bytes of unacknowledged records; an append that would pass it raises `SpoolFull` and the
records already kept are never touched: older evidence is worth more than the newest event.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from streams.spool_format import MAX_RECORD_BYTES, SpoolRecord, frame, parse

log = logging.getLogger(__name__)

SEGMENT_PREFIX = "segment-"
SEGMENT_SUFFIX = ".log"
CURSOR_FILE = "cursor.json"


class SpoolError(Exception):
    """The spool cannot do what was asked; the message says which file and why."""


class SpoolFull(SpoolError):
    """An append would pass the spool's byte bound; the record was not kept."""


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in the spool: a segment id and a byte offset in that segment."""

    segment: int
    offset: int


@dataclass(frozen=True, slots=True)
class Pending:
    """A record read from the spool, where it ends, and how many records end with it."""

    record: SpoolRecord
    end: Position
    serial: int  # records acknowledged since the spool was opened, once this one is


class Spool:
    """Append records, read them back in order, acknowledge them once they are delivered.

    Safe to share between one thread that appends and one that reads and acknowledges.

    >>> spool = Spool(directory, max_bytes=1 << 20)          # doctest: +SKIP
    >>> spool.append(SpoolRecord("quaywatch.access", "quay-north", b"{}"))
    >>> [pending] = spool.peek(10)
    >>> spool.ack(pending)
    """

    def __init__(self, directory: Path, max_bytes: int, segment_bytes: int | None = None) -> None:
        if max_bytes <= 0:
            raise ValueError(f"spool {directory}: max_bytes must be positive, got {max_bytes}")
        self.directory = directory
        self.max_bytes = max_bytes
        # Small segments keep the acknowledged-but-not-yet-deleted bytes on disk small.
        self.segment_bytes = segment_bytes or min(max(max_bytes // 16, 64 * 1024), 64 << 20)
        self.dropped_bytes = 0  # torn or corrupt bytes found when the spool was opened
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        self._sizes: dict[int, int] = {}  # segment id -> bytes of valid records
        self._cursor = Position(0, 0)
        self._depth = 0
        self._acked = 0  # records acknowledged since open; numbers what peek returns
        self._recover()
        self._writer: BinaryIO = open(self._segment_path(self._active), "ab")  # noqa: SIM115

    # -- public interface -------------------------------------------------------------------

    @property
    def depth(self) -> int:
        """Records appended and not yet acknowledged."""
        with self._lock:
            return self._depth

    @property
    def pending_bytes(self) -> int:
        """Bytes of records not yet acknowledged (what the bound counts)."""
        with self._lock:
            return self._pending_bytes()

    def append(self, record: SpoolRecord) -> None:
        """Write one record at the end and fsync it. Raises SpoolFull when it would not fit."""
        payload = record.encode()
        framed = frame(payload)
        with self._lock:
            pending = self._pending_bytes()
            if len(payload) > MAX_RECORD_BYTES or pending + len(framed) > self.max_bytes:
                raise SpoolFull(
                    f"spool {self.directory}: full, {pending} of {self.max_bytes} bytes hold "
                    f"undelivered records; refusing a new {len(framed)}-byte record for "
                    f"{record.topic} key {record.key!r}"
                )
            try:
                if self._sizes[self._active] >= self.segment_bytes:
                    self._roll()
                self._writer.write(framed)
                self._writer.flush()
                os.fsync(self._writer.fileno())
            except OSError as error:
                # A half-written frame (disk full, I/O error) must not sit in front of the
                # records appended after it: cut the segment back to its last whole record.
                self._writer = self._reopen_writer()
                raise SpoolError(
                    f"{self._segment_path(self._active)}: cannot append a record for "
                    f"{record.topic} key {record.key!r}: {error}"
                ) from error
            self._sizes[self._active] += len(framed)
            self._depth += 1

    def peek(self, limit: int) -> list[Pending]:
        """The oldest unacknowledged records, at most `limit`, in append order."""
        with self._lock:
            cursor, sizes, acked = self._cursor, dict(self._sizes), self._acked
        found: list[Pending] = []
        for segment in sorted(s for s in sizes if s >= cursor.segment):
            start = cursor.offset if segment == cursor.segment else 0
            if start >= sizes[segment]:
                continue
            with open(self._segment_path(segment), "rb") as reader:
                reader.seek(start)
                data = reader.read(sizes[segment] - start)
            offset = 0
            while offset < len(data) and len(found) < limit:
                payload, length = parse(data, offset)
                if payload is None:
                    raise SpoolError(
                        f"{self._segment_path(segment)}:{start + offset}: record failed its "
                        "check after it was written; the disk may be damaged"
                    )
                offset += length
                end = Position(segment, start + offset)
                found.append(Pending(SpoolRecord.decode(payload), end, acked + len(found) + 1))
            if len(found) >= limit:
                break
        return found

    def ack(self, through: Pending) -> None:
        """Mark `through` and every record before it delivered; persist, delete done segments."""
        end = through.end
        with self._lock:
            if end <= self._cursor:
                return
            if end.segment not in self._sizes or end.offset > self._sizes[end.segment]:
                raise SpoolError(f"spool {self.directory}: no record ends at {end}")
            self._depth -= through.serial - self._acked
            self._acked = through.serial
            self._cursor = end
            self._advance_past_finished()
            self._write_cursor()
            self._delete_before(self._cursor.segment)

    def close(self) -> None:
        with self._lock:
            self._writer.close()

    # -- recovery ---------------------------------------------------------------------------

    def _recover(self) -> None:
        """Read the cursor, drop segments already delivered, cut torn tails, count what is left."""
        segments = sorted(self._segment_ids())
        cursor = self._read_cursor()
        if cursor is None or not segments or cursor.segment < segments[0]:
            # No cursor (or one older than every segment): nothing was acknowledged yet.
            cursor = Position(segments[0] if segments else 1, 0)
        for segment in segments:
            if segment < cursor.segment:
                self._segment_path(segment).unlink()
        segments = [s for s in segments if s >= cursor.segment]
        if not segments or segments[0] != cursor.segment:
            # The cursor's segment was deleted after the cursor moved on; start at the next one.
            cursor = Position(segments[0] if segments else cursor.segment, 0)
        if not segments:
            self._segment_path(cursor.segment).touch()
            _fsync_dir(self.directory)
            segments = [cursor.segment]
        for segment in segments:
            self._sizes[segment] = self._check_segment(segment, last=segment == segments[-1])
        if cursor.offset > self._sizes[cursor.segment]:
            raise SpoolError(
                f"{self.directory / CURSOR_FILE}: points past the end of segment "
                f"{cursor.segment} ({cursor.offset} > {self._sizes[cursor.segment]})"
            )
        self._cursor = cursor
        self._depth = self._count(cursor, Position(segments[-1], self._sizes[segments[-1]]))

    def _check_segment(self, segment: int, last: bool) -> int:
        """Bytes of whole, valid records at the start of a segment; a torn tail is cut off."""
        path = self._segment_path(segment)
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            payload, length = parse(data, offset)
            if payload is None:
                break
            offset += length
        if offset == len(data):
            return offset
        self.dropped_bytes += len(data) - offset
        if last:
            # A crash in the middle of an append leaves exactly this: cut it and go on.
            log.warning(
                "%s:%d: dropping %d bytes of a torn record at the end of the spool",
                path,
                offset,
                len(data) - offset,
            )
            with open(path, "r+b") as handle:
                handle.truncate(offset)
                os.fsync(handle.fileno())
        else:
            # A sealed segment was fully written before the next one began, so damage here is
            # the disk's doing. Keep a copy for the auditors and deliver what is still whole.
            copy = path.with_suffix(".corrupt")
            shutil.copyfile(path, copy)
            log.error(
                "%s:%d: spool record damaged, %d bytes after it are unreadable; the damaged "
                "segment is kept as %s",
                path,
                offset,
                len(data) - offset,
                copy,
            )
        return offset

    # -- segments and cursor ----------------------------------------------------------------

    @property
    def _active(self) -> int:
        return max(self._sizes)

    def _segment_path(self, segment: int) -> Path:
        return self.directory / f"{SEGMENT_PREFIX}{segment:020d}{SEGMENT_SUFFIX}"

    def _segment_ids(self) -> list[int]:
        ids = []
        for path in self.directory.glob(f"{SEGMENT_PREFIX}*{SEGMENT_SUFFIX}"):
            number = path.name[len(SEGMENT_PREFIX) : -len(SEGMENT_SUFFIX)]
            if number.isdigit():
                ids.append(int(number))
        return ids

    def _roll(self) -> None:
        self._writer.close()
        segment = self._active + 1
        self._sizes[segment] = 0
        self._writer = open(self._segment_path(segment), "ab")  # noqa: SIM115 - held open
        _fsync_dir(self.directory)
        if self._advance_past_finished():
            self._write_cursor()
            self._delete_before(self._cursor.segment)

    def _reopen_writer(self) -> BinaryIO:
        """A fresh handle on the active segment, cut back to the records known to be whole."""
        with contextlib.suppress(OSError):
            self._writer.close()
        path = self._segment_path(self._active)
        writer = open(path, "ab")  # noqa: SIM115 - held open
        writer.truncate(self._sizes[self._active])
        return writer

    def _advance_past_finished(self) -> bool:
        """Move the cursor off sealed segments it has reached the end of."""
        moved = False
        while self._cursor.segment != self._active and (
            self._cursor.offset >= self._sizes[self._cursor.segment]
        ):
            self._cursor = Position(min(s for s in self._sizes if s > self._cursor.segment), 0)
            moved = True
        return moved

    def _delete_before(self, segment: int) -> None:
        for old in [s for s in self._sizes if s < segment]:
            self._segment_path(old).unlink(missing_ok=True)
            del self._sizes[old]

    def _pending_bytes(self) -> int:
        return sum(
            size for segment, size in self._sizes.items() if segment >= self._cursor.segment
        ) - (self._cursor.offset if self._cursor.segment in self._sizes else 0)

    def _count(self, start: Position, end: Position) -> int:
        """Records between two positions, read from disk (only done at open and on ack)."""
        count = 0
        for segment in sorted(s for s in self._sizes if start.segment <= s <= end.segment):
            first = start.offset if segment == start.segment else 0
            last = end.offset if segment == end.segment else self._sizes[segment]
            if last <= first:
                continue
            with open(self._segment_path(segment), "rb") as reader:
                reader.seek(first)
                data = reader.read(last - first)
            offset = 0
            while offset < len(data):
                _, length = parse(data, offset)
                offset += length
                count += 1
        return count

    def _read_cursor(self) -> Position | None:
        path = self.directory / CURSOR_FILE
        try:
            raw = json.loads(path.read_text())
            return Position(int(raw["segment"]), int(raw["offset"]))
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError) as error:
            raise SpoolError(f"{path}: unreadable spool cursor ({error})") from None

    def _write_cursor(self) -> None:
        path = self.directory / CURSOR_FILE
        scratch = path.with_suffix(".tmp")
        with open(scratch, "w") as handle:
            json.dump({"segment": self._cursor.segment, "offset": self._cursor.offset}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(scratch, path)
        _fsync_dir(self.directory)


def _fsync_dir(directory: Path) -> None:
    """Make a created, renamed or deleted file name survive a power cut, not only its bytes."""
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
