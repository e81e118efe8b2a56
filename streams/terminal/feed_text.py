"""Feed input as text: UTF-8 without NUL bytes, or refused with where it stops being text.

DCSA JSON and EDIFACT are text; a file that is not (an image, an archive, a UTF-16 export) is
refused whole with one reason, not read as a mojibake of rejects.
"""

from __future__ import annotations

import codecs


class NotText(ValueError):
    """Input that is not UTF-8 text; the message says which byte and where."""


def feed_text(data: bytes) -> str:
    """`data` decoded as UTF-8 (a byte order mark is dropped), or NotText saying why not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise NotText("not text in UTF-8: it starts with a UTF-16 byte order mark")
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    nul = data.find(b"\0")
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as error:
        offset = bom + error.start
        if nul < 0 or offset < nul:  # the reason is the first byte that is not text
            reason = f"not text: byte 0x{data[offset]:02x} at offset {offset} is not UTF-8"
            raise NotText(reason) from None
    if nul >= 0:
        raise NotText(f"not text: a NUL byte at offset {nul}")
    return text
