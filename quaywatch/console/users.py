"""Console users: names, roles and argon2 password hashes, in one JSON file in the data dir."""

from __future__ import annotations

import json
import os
import re
import tempfile
from enum import StrEnum
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field

USER_NAME_PATTERN = r"^[a-z][a-z0-9_.-]{0,31}$"
MIN_PASSWORD_LENGTH = 8


class Role(StrEnum):
    operator = "operator"  # handles alerts
    engineer = "engineer"  # camera health and config hash
    auditor = "auditor"  # reads everything, changes nothing


class UserError(ValueError):
    """A user could not be added, removed or read; the message says which and why."""


class User(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=USER_NAME_PATTERN)
    role: Role
    password_hash: str = Field(description="argon2id hash in PHC string form")


class UsersFile(BaseModel):
    users: dict[str, User]


def users_path(data_dir: Path) -> Path:
    return data_dir / "console" / "users.json"


class UserStore:
    """Reads the file on every call, so `quaywatch users add` takes effect on a running console."""

    def __init__(self, path: Path, hasher: PasswordHasher | None = None) -> None:
        self.path = path
        self._hasher = hasher or PasswordHasher()
        # Verifying against this when the name is unknown keeps the time of a failed login the
        # same whether or not the user exists.
        self._decoy_hash = self._hasher.hash("decoy password, never valid")

    def users(self) -> dict[str, User]:
        if not self.path.exists():
            return {}
        try:
            return UsersFile.model_validate_json(self.path.read_text()).users
        except (OSError, ValueError) as error:
            raise UserError(f"{self.path}: not a readable users file: {error}") from error

    def add(self, name: str, role: Role, password: str) -> User:
        if not re.match(USER_NAME_PATTERN, name):
            raise UserError(
                f"user name {name!r}: use 1-32 lower-case letters, digits, '_', '.' or '-', "
                "starting with a letter"
            )
        if len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(
                f"password for {name!r}: at least {MIN_PASSWORD_LENGTH} characters, "
                f"got {len(password)}"
            )
        users = self.users()
        if name in users:
            raise UserError(f"user {name!r} exists in {self.path}; remove it first")
        user = User(name=name, role=role, password_hash=self._hasher.hash(password))
        users[name] = user
        self._write(users)
        return user

    def remove(self, name: str) -> None:
        users = self.users()
        if name not in users:
            known = ", ".join(sorted(users)) or "none"
            raise UserError(f"no user {name!r} in {self.path}; users are {known}")
        del users[name]
        self._write(users)

    def authenticate(self, name: str, password: str) -> User | None:
        user = self.users().get(name)
        try:
            self._hasher.verify(user.password_hash if user else self._decoy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return user

    def _write(self, users: dict[str, User]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = UsersFile(users=users).model_dump(mode="json")
        # Write then rename, so a running console never reads half a file; 0600 because the
        # hashes are still worth guessing against.
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".users.")
        try:
            with os.fdopen(handle, "w") as file:
                json.dump(body, file, indent=2, sort_keys=True)
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
