"""How the operator console holds under attack: TLS, request sizes, login throttling, origins."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import Field, model_validator

from config.base import Period, Strict

# A PEM file; config.loading takes a relative path from the config file's folder.
PemFile = Path | None
CONSOLE_TLS_FILES = ("tls_certfile", "tls_keyfile")
ORIGIN_PATTERN = r"^https?://[A-Za-z0-9.\-\[\]:]+$"
Origin = Annotated[str, Field(pattern=ORIGIN_PATTERN, description="scheme://host[:port]")]


class LoginThrottle(Strict):
    """Failed logins (form and /metrics basic auth) counted per user name and per address."""

    user_failures: int = Field(
        default=10,
        ge=1,
        title="Failures per user",
        description="Failed logins for one user name within the window that lock that name",
    )
    address_failures: int = Field(
        default=30,
        ge=1,
        title="Failures per address",
        description="Failed logins from one client address within the window that lock that "
        "address, whatever names it tries",
    )
    window_seconds: Period = Field(
        default=300, title="Window", description="Seconds over which failures are counted"
    )
    lockout_seconds: Period = Field(
        default=900,
        title="Lockout",
        description="Seconds a locked user or address is refused, even with the right password",
    )


class Console(Strict):
    """The console's web endpoint: TLS, the largest request body, logins and trusted origins."""

    tls_certfile: PemFile = Field(
        default=None,
        title="TLS certificate",
        description="Certificate chain (PEM) the console serves HTTPS with, relative to the "
        "config file; with it, cookies are Secure and HSTS is sent",
    )
    tls_keyfile: PemFile = Field(
        default=None,
        title="TLS key",
        description="Private key (PEM) of the TLS certificate, relative to the config file",
    )
    max_body_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        title="Largest request body",
        description="Bytes a request body may have; a larger one is refused (413) unread",
    )
    allowed_origins: list[Origin] = Field(
        default_factory=list,
        title="Allowed origins",
        description="Origins (scheme://host[:port]) besides the console's own that may send "
        "state-changing requests, e.g. the address of a reverse proxy in front of it",
    )
    login: LoginThrottle = Field(
        default_factory=LoginThrottle,
        title="Login throttling",
        description="When failed logins lock a user name or a client address, and for how long",
    )
    hsts_seconds: int = Field(
        default=31536000,
        ge=0,
        title="HSTS max-age",
        description="Seconds browsers keep to HTTPS for the console (Strict-Transport-Security, "
        "sent only under TLS); 0 sends none",
    )

    @model_validator(mode="after")
    def _certificate_with_key(self) -> Self:
        if (self.tls_certfile is None) != (self.tls_keyfile is None):
            raise ValueError("tls_certfile and tls_keyfile go together: give both or neither")
        return self

    @property
    def tls(self) -> bool:
        return self.tls_certfile is not None

    def origins(self) -> frozenset[str]:
        return frozenset(origin.rstrip("/").lower() for origin in self.allowed_origins)
