"""Load a site YAML file into a SiteConfig, reporting every error as FILE:LINE:COL: path: why.

The YAML is read with ruamel.yaml's round-trip loader because it keeps the line and column
of every key and item; pydantic's error locations are walked through that tree to find
where in the file each error sits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import DuplicateKeyError
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from config.base import IDENTIFIER_PATTERN, SectionError
from config.console import CONSOLE_TLS_FILES
from config.errors import describe_error
from config.kafka import TLS_FILES
from config.site import SiteConfig, id_reference_errors

# A source with a scheme (rtsp://, http://, https://, file://) is a URL and is left alone.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")

Location = tuple[str | int, ...]


class ConfigError(ValueError):
    """A site config that cannot be used; `messages` holds one FILE:LINE:COL line per error."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__("\n".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class _Position:
    line: int  # 1-based, as editors show them
    col: int


def load_site(path: Path | str, check_keys: bool = True, check_files: bool = False) -> SiteConfig:
    """Read, validate and cross-check a site config; relative paths become absolute.

    `check_keys=False` leaves the trusted key files unread: for the demo, which makes them.
    `check_files` also reports every file the config names that is not there (footage, model,
    TLS and secret files), found as every command finds them: `config check` does.
    """
    path = Path(path)
    tree = _parse(path)
    try:
        site = SiteConfig.model_validate(_plain(tree))
    except ValidationError as invalid:
        errors = [
            (tuple(error["loc"]), describe_error(error, SiteConfig)) for error in invalid.errors()
        ]
        # Cross-section mistakes are reported in the same run, not after the next fix.
        errors += _raw_reference_errors(tree)
        raise ConfigError(_format(path, tree, errors)) from None
    if reference_errors := site.reference_errors():
        raise ConfigError(_format(path, tree, reference_errors))
    resolved = resolve_paths(site, path.parent)
    errors = resolved.signing.key_errors() if check_keys else []
    if check_files:
        errors += missing_files(resolved, path.parent)
    if errors:
        raise ConfigError(_format(path, tree, errors))
    return resolved.pin_written_hash(site.config_hash())


def missing_files(site: SiteConfig, base: Path) -> list[SectionError]:
    """The files a resolved `site` names that do not exist, each at its field. The default
    model is left out: `quaywatch resources fetch` (or the first run) places it."""
    named: list[tuple[tuple[str | int, ...], str | Path]] = [
        (("cameras", index, "source"), camera.source)
        for index, camera in enumerate(site.cameras)
        if not _URL.match(camera.source) and not camera.source.isdigit()
    ]
    if site.detector.model != "default":
        named.append((("detector", "model"), site.detector.model))
    named += [
        (("kafka", name), value)
        for name in TLS_FILES
        if (value := getattr(site.kafka, name)) is not None
    ]
    named += [
        (("console", name), value)
        for name in CONSOLE_TLS_FILES
        if (value := getattr(site.console, name)) is not None
    ]
    named += [
        (("terminal", "callback", "subscriptions", index, "secret_file"), subscription.secret_file)
        for index, subscription in enumerate(site.terminal.callback.subscriptions)
        if subscription.secret_file is not None
    ]
    return [
        (location, f"no such file {value} (a relative path is read from the folder of the "
         f"config file, {base.resolve()})")
        for location, value in named
        if not Path(value).exists()
    ]  # fmt: skip


def resolve_paths(site: SiteConfig, base: Path) -> SiteConfig:
    """Make data_dir, file camera sources, model, Kafka and console TLS, secret and key files
    absolute against `base`."""

    def absolute(value: Path | str) -> Path:
        candidate = Path(value).expanduser()
        return candidate if candidate.is_absolute() else (base / candidate).resolve()

    cameras = [
        camera
        if _URL.match(camera.source)
        else camera.model_copy(update={"source": str(absolute(camera.source))})
        for camera in site.cameras
    ]
    detector = site.detector
    if detector.model != "default":
        detector = detector.model_copy(update={"model": str(absolute(detector.model))})
    tls = {
        name: absolute(value)
        for name in TLS_FILES
        if (value := getattr(site.kafka, name)) is not None
    }
    console_tls = {
        name: absolute(value)
        for name in CONSOLE_TLS_FILES
        if (value := getattr(site.console, name)) is not None
    }
    callback = site.terminal.callback
    subscriptions = [
        subscription
        if subscription.secret_file is None
        else subscription.model_copy(update={"secret_file": absolute(subscription.secret_file)})
        for subscription in callback.subscriptions
    ]
    return site.model_copy(
        update={
            "data_dir": absolute(site.data_dir),
            "cameras": cameras,
            "detector": detector,
            "kafka": site.kafka.model_copy(update=tls),
            "console": site.console.model_copy(update=console_tls),
            "terminal": site.terminal.model_copy(
                update={"callback": callback.model_copy(update={"subscriptions": subscriptions})}
            ),
            "signing": site.signing.model_copy(
                update={
                    "keys": [
                        key.model_copy(update={"public_key": absolute(key.public_key)})
                        for key in site.signing.keys
                    ]
                }
            ),
        }
    )


def _parse(path: Path) -> CommentedMap:
    """The YAML tree of `path`, or ConfigError for anything that is not a YAML mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}:1:1: no such file"]) from None
    except (OSError, UnicodeDecodeError) as unreadable:
        raise ConfigError([f"{path}:1:1: cannot read the file: {unreadable}"]) from None
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as syntax:
        mark = syntax.problem_mark or syntax.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if isinstance(syntax, DuplicateKeyError):
            # Silently keeping one of two values is how a zone ends up on the wrong camera.
            raise ConfigError([f"{path}:{line}:{col}: {syntax.problem}"]) from None
        problem = " ".join(filter(None, [syntax.context, syntax.problem]))
        raise ConfigError([f"{path}:{line}:{col}: YAML syntax error: {problem}"]) from None
    except YAMLError as syntax:
        raise ConfigError([f"{path}:1:1: YAML syntax error: {syntax}"]) from None
    if tree is None:
        raise ConfigError(
            [f"{path}:1:1: the file is empty; a site needs at least site and cameras"]
        )
    if not isinstance(tree, CommentedMap):
        line, col = (tree.lc.line + 1, tree.lc.col + 1) if hasattr(tree, "lc") else (1, 1)
        raise ConfigError(
            [f"{path}:{line}:{col}: the top level must be a mapping (site:, cameras:, ...)"]
        )
    return tree


def _plain(node: object) -> object:
    """Round-trip YAML nodes as plain dicts, lists and scalars, so pydantic sees only data."""
    if isinstance(node, dict):
        return {key: _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(item) for item in node]
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool | ScalarBoolean):
        return bool(node)
    if isinstance(node, datetime):
        return datetime.fromisoformat(node.isoformat())
    if isinstance(node, float):
        return float(node)
    if isinstance(node, int):
        return int(node)
    return node


def _raw_reference_errors(tree: CommentedMap) -> list[tuple[Location, str]]:
    def items(section: str) -> list[object]:
        value = tree.get(section)
        return list(value) if isinstance(value, list) else []

    def field(item: object, key: str) -> object:
        return item.get(key) if isinstance(item, dict) else None

    cameras, zones = items("cameras"), items("zones")
    return id_reference_errors(
        [field(camera, "id") for camera in cameras],
        [field(zone, "id") for zone in zones],
        [field(zone, "camera") for zone in zones],
    )


def _format(path: Path, tree: CommentedMap, errors: list[tuple[Location, str]]) -> list[str]:
    located = []
    for location, message in errors:
        position, field_path = _locate(tree, location)
        located.append((position.line, position.col, f"{field_path}: {message}"))
    # File order reads like an editor's problem list; duplicates come from pydantic and
    # the raw reference check reporting the same thing.
    return [f"{path}:{line}:{col}: {text}" for line, col, text in sorted(set(located))]


def _locate(tree: CommentedMap, location: Location) -> tuple[_Position, str]:
    """Where `location` sits in the file, and its path with list items named by their id."""
    node: object = tree
    position = _Position(tree.lc.line + 1, tree.lc.col + 1)
    names: list[str] = []
    for step_index, step in enumerate(location):
        if isinstance(node, CommentedMap) and step in node:
            child = node[step]
            names.append(str(step))
            line, col = node.lc.key(step)
            if not isinstance(child, CommentedMap | CommentedSeq):
                # A scalar: point at the value itself, the thing to fix.
                line, col = node.lc.value(step)
            position = _Position(line + 1, col + 1)
        elif isinstance(node, CommentedSeq) and isinstance(step, int) and 0 <= step < len(node):
            child = node[step]
            item_id = child.get("id") if isinstance(child, CommentedMap) else None
            if isinstance(item_id, str) and re.match(IDENTIFIER_PATTERN, item_id):
                names.append(item_id)
            else:
                names.append(f"[{step}]")
            line, col = node.lc.item(step)
            position = _Position(line + 1, col + 1)
        else:
            # Not in the file (a missing field): the enclosing mapping is where to add it.
            if isinstance(node, CommentedMap):
                position = _Position(node.lc.line + 1, node.lc.col + 1)
            names.extend(str(rest) for rest in location[step_index:])
            break
        node = child
    return position, ".".join(names).replace(".[", "[") or "(top level)"
