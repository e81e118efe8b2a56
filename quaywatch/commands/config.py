"""`quaywatch config`: check site files and print the schema editors autocomplete from."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from quaywatch.commands import command_group, subcommand


def register(subparsers: argparse._SubParsersAction) -> None:
    actions = command_group(subparsers, "config", help="check site config files, print the schema")
    check = subcommand(
        actions, "check", check_files, help="validate site YAML files; exit 1 on any error"
    )
    check.add_argument("files", nargs="+", type=Path, metavar="FILE", help="site YAML file")
    subcommand(actions, "schema", print_schema, help="print the JSON Schema of a site config")


def check_files(args: argparse.Namespace) -> int:
    """Validate every file (not stopping at the first bad one); errors go to stderr."""
    # Imported here so `quaywatch --help` does not pay for pydantic and ruamel.
    from config.loading import ConfigError, load_site

    exit_code = 0
    for path in args.files:
        try:
            site = load_site(path, check_files=True)
        except ConfigError as error:
            print("\n".join(error.messages), file=sys.stderr)
            exit_code = 1
        else:
            print(f"{path}: ok (config hash {site.config_hash()})")
    return exit_code


def print_schema(args: argparse.Namespace) -> int:
    from config.site import SiteConfig

    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **SiteConfig.model_json_schema(),
    }
    print(json.dumps(schema, indent=2))
    return 0
