"""Console users: argon2 hashes in a private file, and the users command that manages them."""

from __future__ import annotations

import io
import json
import stat
from pathlib import Path

import pytest

from quaywatch.cli import main
from quaywatch.console.users import Role, UserError, UserStore, users_path


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return UserStore(users_path(tmp_path))


def test_password_is_stored_as_an_argon2id_hash_in_a_private_file(store: UserStore) -> None:
    store.add("anna", Role.operator, "correct horse battery")
    text = store.path.read_text()
    assert "correct horse battery" not in text
    assert json.loads(text)["users"]["anna"]["password_hash"].startswith("$argon2id$")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_right_password_authenticates_and_wrong_or_unknown_does_not(store: UserStore) -> None:
    store.add("anna", Role.auditor, "correct horse battery")
    user = store.authenticate("anna", "correct horse battery")
    assert user is not None and user.role is Role.auditor
    assert store.authenticate("anna", "correct horse") is None
    assert store.authenticate("bob", "correct horse battery") is None


def test_adding_an_existing_user_is_refused(store: UserStore) -> None:
    store.add("anna", Role.operator, "correct horse battery")
    with pytest.raises(UserError, match="user 'anna' exists"):
        store.add("anna", Role.engineer, "another long password")


@pytest.mark.parametrize("name", ["Anna", "../anna", "", "a b", "x" * 40])
def test_user_names_outside_the_pattern_are_refused(store: UserStore, name: str) -> None:
    with pytest.raises(UserError, match="user name"):
        store.add(name, Role.operator, "correct horse battery")


def test_short_password_is_refused_with_its_length(store: UserStore) -> None:
    with pytest.raises(UserError, match="at least 8 characters, got 5"):
        store.add("anna", Role.operator, "short")


def test_removing_an_unknown_user_names_the_known_ones(store: UserStore) -> None:
    store.add("anna", Role.operator, "correct horse battery")
    with pytest.raises(UserError, match="no user 'bob'.*users are anna"):
        store.remove("bob")
    store.remove("anna")
    assert store.users() == {}


def test_users_command_adds_with_password_from_stdin_and_removes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("night shift password\n"))
    data_dir = str(tmp_path)
    add = ["users", "add", "olga", "--role", "operator", "--password-stdin", "--data-dir"]
    assert main([*add, data_dir]) == 0
    store = UserStore(users_path(tmp_path))
    assert store.authenticate("olga", "night shift password") is not None

    assert main(["users", "remove", "olga", "--data-dir", data_dir]) == 0
    assert store.users() == {}
    assert main(["users", "remove", "olga", "--data-dir", data_dir]) == 1
    assert "no user 'olga'" in capsys.readouterr().err
