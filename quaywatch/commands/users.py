"""`quaywatch users add|remove`: console logins, kept hashed in the data directory."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from quaywatch.commands import command_group, site_option, subcommand

if TYPE_CHECKING:
    from quaywatch.console.users import UserStore


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(subparsers, "users", help="add or remove operator console users")
    add = subcommand(actions, "add", add_user, help="add a user; the password is asked for")
    add.add_argument("name", help="login name: lower-case letters, digits, _ . -")
    add.add_argument(
        "--role",
        required=True,
        choices=["operator", "engineer", "auditor"],
        help="operator handles alerts; engineer sees camera health and config; auditor reads",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input instead of a prompt",
    )
    _where(add)
    remove = subcommand(actions, "remove", remove_user, help="remove a user; their sessions end")
    remove.add_argument("name", help="login name")
    _where(remove)


def _where(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group(required=True)
    site_option(where, "site YAML; uses its data_dir", required=False)
    where.add_argument("--data-dir", type=Path, help="data directory, without a site file")


def add_user(args: argparse.Namespace) -> int:
    from quaywatch.console.users import Role

    store = _store(args)
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            print("quaywatch users: the two passwords differ; nothing changed", file=sys.stderr)
            return 1

    def add() -> str:
        user = store.add(args.name, Role(args.role), password)
        return f"added {user.name} ({user.role}) to {store.path}"

    return _apply(add)


def remove_user(args: argparse.Namespace) -> int:
    store = _store(args)

    def remove() -> str:
        store.remove(args.name)
        return f"removed {args.name} from {store.path}"

    return _apply(remove)


def _apply(change: Callable[[], str]) -> int:
    """Make one change to the logins and say what it did; a refused one exits 1."""
    from quaywatch.console.users import UserError

    try:
        print(change())
    except UserError as error:
        print(f"quaywatch users: {error}", file=sys.stderr)
        return 1
    return 0


def _store(args: argparse.Namespace) -> UserStore:
    from quaywatch.console.users import UserStore, users_path

    if args.data_dir is not None:
        return UserStore(users_path(args.data_dir))
    from config.loading import load_site

    return UserStore(users_path(Path(load_site(args.config).data_dir)))
