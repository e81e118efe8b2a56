"""Terminal and customs feeds: formats, the facility, yard positions to yard blocks, and the
DCSA callback endpoint (where it listens, its limits, each subscription's secret)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Self
from uuid import UUID

from pydantic import Field, PositiveInt, model_validator

from config.base import Identifier, NonEmptyText, Port, Strict

# The path part of a URL, as a subscription's callbackUrl has it.
UrlPath = Annotated[str, Field(pattern=r"^/[A-Za-z0-9._~/-]*$", max_length=200)]
# Seconds a sender may take over one request: long for a slow link, short of a siege.
ReadTimeout = Annotated[float, Field(gt=0, le=600)]


class FeedFormat(StrEnum):
    """A terminal or customs feed format."""

    dcsa = "dcsa"
    coarri = "coarri"


class YardArea(Strict):
    """Yard positions (a pattern) that lie in one yard block."""

    pattern: NonEmptyText = Field(
        title="Position pattern",
        description="Shell pattern over yard positions, e.g. 'Q3*' for positions in block Q3",
    )
    yard_block: Identifier = Field(title="Yard block", description="Block these positions are in")


class CallbackSubscription(Strict):
    """A DCSA event subscription: its id and where its shared secret is kept (never here)."""

    id: UUID = Field(
        title="Subscription id",
        description="subscriptionID the publisher issued; callbacks carry it as Subscription-ID",
    )
    secret_env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        title="Secret variable",
        description="Environment variable with the secret (Base64, as sent when subscribing)",
    )
    secret_file: Path | None = Field(
        default=None,
        title="Secret file",
        description="File with the secret (Base64 as subscribed), relative to the config file",
    )

    @model_validator(mode="after")
    def _one_secret_source(self) -> Self:
        if (self.secret_env is None) == (self.secret_file is None):
            raise ValueError(
                "name exactly one of secret_env or secret_file: the variable or the file that "
                "holds the subscription's secret"
            )
        return self


class DcsaCallback(Strict):
    """The DCSA callback endpoint (`quaywatch terminal serve`): where it listens, what it takes
    of a sender, and the subscriptions whose callbacks it accepts."""

    port: Port = Field(
        default=8481,
        title="Port",
        description="Port it listens on",
    )
    host: NonEmptyText = Field(
        default="127.0.0.1",
        title="Listen address",
        description="Address it listens on; 0.0.0.0 where others call it",
    )
    path: UrlPath = Field(
        default="/dcsa/tnt/v2/events",
        title="Path",
        description="The subscription's callbackUrl path; every other path answers 404",
    )
    max_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=1024,
        le=256 * 1024 * 1024,
        title="Largest body",
        description="Bytes a callback body may have; a longer one answers 413",
    )
    read_timeout_seconds: ReadTimeout = Field(
        default=30,
        title="Read timeout",
        description="Seconds a sender has to deliver a whole request (head and body) from "
        "the moment it connects or was last answered; a slower one is disconnected",
    )
    max_connections: PositiveInt = Field(
        default=1000,
        le=100_000,
        title="Connections",
        description="Connections the endpoint serves at once; beyond that it answers 503",
    )
    subscriptions: list[CallbackSubscription] = Field(
        default_factory=list,
        title="DCSA subscriptions",
        description="The subscriptions whose callbacks are accepted, each with where its "
        "shared secret is; a callback of any other subscription answers 401",
    )

    @model_validator(mode="after")
    def _subscriptions_once(self) -> Self:
        ids = [str(subscription.id) for subscription in self.subscriptions]
        if twice := sorted({i for i in ids if ids.count(i) > 1}):
            raise ValueError(f"subscriptions: {', '.join(twice)} listed twice; list each once")
        return self


class TerminalFeeds(Strict):
    """How container events from the terminal and customs are read."""

    facility_code: str = Field(
        default="",
        max_length=20,
        title="Facility",
        description="SMDG facility code of this terminal; when set, DCSA events of other "
        "facilities, or that name none, are rejected to dead-letter",
    )
    yard_areas: list[YardArea] = Field(
        default_factory=list,
        title="Yard areas",
        description="Yard position patterns to yard blocks, first match wins",
    )
    callback: DcsaCallback = Field(
        default_factory=DcsaCallback,
        title="DCSA callback endpoint",
        description="Where DCSA subscriptions deliver their events, and whose are accepted",
    )
    replay_clock_start: datetime | None = Field(
        default=None,
        title="Replay clock start",
        description="For a site replaying recorded footage (cameras with start_time): the "
        "moment (ISO 8601 with offset) the feed's ingestion clock starts from when the feed "
        "process starts, running at the wall clock's pace, so container events are stamped "
        "ingested_at on the footage's clock. Unset (production): the wall clock",
    )
