"""Console sessions, kept on disk so a console restart logs nobody out.

A session is one small file under the data directory, named by the SHA-256 of its token: the
token itself (what the browser's cookie holds) is never written, so a copy of the directory
opens no session. Every console on the same data directory sees the same sessions, and a
logout or a removed user ends them on all of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from quaywatch.console.users import Role, User

log = logging.getLogger(__name__)


def sessions_path(data_dir: Path) -> Path:
    return data_dir / "console" / "sessions"


@dataclass(frozen=True)
class Session:
    token: str
    user_name: str
    role: Role
    expires_at: float  # on the store's clock (seconds since the epoch)
    # Which password the session was opened with (see `credential_of`), so that a user removed
    # and added again, e.g. for a new password, does not find the old sessions still open.
    credential: str = ""


def credential_of(user: User) -> str:
    return hashlib.sha256(user.password_hash.encode()).hexdigest()


class SessionRecord(BaseModel):
    """What a session file holds: everything but the token."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_name: str
    role: Role
    expires_at: float
    credential: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionStore:
    """Sessions expire a fixed time after login; `directory` holds one file per session."""

    def __init__(
        self, directory: Path, ttl_seconds: float, clock: Callable[[], float] = time.time
    ) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"session lifetime must be above 0 seconds, got {ttl_seconds}")
        self.directory = directory
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._drop_expired()

    def open(self, user: User) -> Session:
        session = Session(
            token=secrets.token_urlsafe(32),
            user_name=user.name,
            role=user.role,
            expires_at=self._clock() + self.ttl_seconds,
            credential=credential_of(user),
        )
        record = SessionRecord(
            user_name=session.user_name,
            role=session.role,
            expires_at=session.expires_at,
            credential=session.credential,
        )
        self._write(token_digest(session.token), record)
        return session

    def get(self, token: str | None) -> Session | None:
        """The session of `token`, read from its file: None when there is none, it was closed
        (here or by another console) or it expired."""
        if not token:
            return None
        path = self.directory / token_digest(token)
        record = self._read(path)
        if record is None:
            return None
        if record.expires_at <= self._clock():
            path.unlink(missing_ok=True)
            return None
        return Session(token, record.user_name, record.role, record.expires_at, record.credential)

    def close(self, token: str) -> None:
        (self.directory / token_digest(token)).unlink(missing_ok=True)

    def _drop_expired(self) -> None:
        now = self._clock()
        for path, record in self._records():
            if record.expires_at <= now:
                path.unlink(missing_ok=True)

    def _records(self) -> list[tuple[Path, SessionRecord]]:
        found = []
        for path in self.directory.iterdir():
            if path.name.startswith("."):
                continue
            record = self._read(path)
            if record is not None:
                found.append((path, record))
        return found

    def _read(self, path: Path) -> SessionRecord | None:
        try:
            return SessionRecord.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValidationError) as error:
            # A damaged file opens no session; it is dropped so it cannot linger.
            log.warning("console: dropping unreadable session file %s: %s", path, error)
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def _write(self, name: str, record: SessionRecord) -> None:
        # Write then rename, so no console ever reads half a session; 0600 like the users file.
        handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".session.")
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(record.model_dump(mode="json"), file)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.directory / name)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
