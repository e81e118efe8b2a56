"""The disk buffer that keeps events while the broker is unreachable."""

from __future__ import annotations

from pydantic import Field

from config.base import Strict


class Spool(Strict):
    """The disk buffer that keeps events while the broker is unreachable."""

    max_bytes: int = Field(
        default=512 * 1024 * 1024,
        ge=1024,
        title="Spool size",
        description="Bytes of events kept on disk while the broker is away",
    )
