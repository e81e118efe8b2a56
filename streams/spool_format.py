"""How the spool keeps one record on disk: a checksummed frame around length-prefixed fields.

A frame is ``MAGIC | length (u32) | crc32 (u32) | payload``; the CRC covers the length and the
payload, so a record torn by a crash (or a zero-filled tail) fails its check and is dropped
cleanly. The payload holds a record's topic, key, value and headers, each length-prefixed.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAGIC = b"QWS1"
_FRAME = struct.Struct(">4sII")  # magic, payload length, crc32(length bytes + payload)
_LENGTH = struct.Struct(">I")
# A length beyond this in a frame means a damaged frame, not a real record.
MAX_RECORD_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class SpoolRecord:
    """One Kafka record as it will be sent: full topic name, key, value and headers."""

    topic: str
    key: str
    value: bytes
    headers: tuple[tuple[str, bytes], ...] = ()

    def encode(self) -> bytes:
        parts = [_text(self.topic), _text(self.key), _blob(self.value)]
        parts.append(_LENGTH.pack(len(self.headers)))
        for name, value in self.headers:
            parts += [_text(name), _blob(value)]
        return b"".join(parts)

    @classmethod
    def decode(cls, payload: bytes) -> SpoolRecord:
        reader = _Reader(payload)
        topic, key, value = reader.text(), reader.text(), reader.blob()
        headers = tuple((reader.text(), reader.blob()) for _ in range(reader.length()))
        if reader.remaining:
            raise ValueError(f"{reader.remaining} bytes left over after the record")
        return cls(topic=topic, key=key, value=value, headers=headers)


def frame(payload: bytes) -> bytes:
    length = _LENGTH.pack(len(payload))
    return _FRAME.pack(MAGIC, len(payload), zlib.crc32(length + payload)) + payload


def parse(data: bytes, offset: int) -> tuple[bytes | None, int]:
    """(payload, frame length) of the record at `offset`, or (None, 0) when it is not whole."""
    if offset + _FRAME.size > len(data):
        return None, 0
    magic, length, crc = _FRAME.unpack_from(data, offset)
    start = offset + _FRAME.size
    if magic != MAGIC or not 0 < length <= MAX_RECORD_BYTES or start + length > len(data):
        return None, 0
    payload = data[start : start + length]
    if zlib.crc32(_LENGTH.pack(length) + payload) != crc:
        return None, 0
    return payload, _FRAME.size + length


def _text(value: str) -> bytes:
    return _blob(value.encode())


def _blob(value: bytes) -> bytes:
    return _LENGTH.pack(len(value)) + value


class _Reader:
    """Reads the length-prefixed fields of a record payload."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload
        self._offset = 0

    @property
    def remaining(self) -> int:
        return len(self._payload) - self._offset

    def length(self) -> int:
        if self.remaining < _LENGTH.size:
            raise ValueError("record ends inside a length field")
        (value,) = _LENGTH.unpack_from(self._payload, self._offset)
        self._offset += _LENGTH.size
        return value

    def blob(self) -> bytes:
        size = self.length()
        if size > self.remaining:
            raise ValueError(f"field of {size} bytes runs past the record's end")
        value = self._payload[self._offset : self._offset + size]
        self._offset += size
        return value

    def text(self) -> str:
        return self.blob().decode()
