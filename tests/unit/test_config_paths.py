"""A site config moved to another folder: `config check` finds its files as every command
does (relative to the file) and names each missing one by file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from config.loading import load_site
from quaywatch.cli import main
from tests.fixtures.resources import DEMO_SITE


def _copy_elsewhere(tmp_path: Path, footage: str) -> Path:
    """demo.yaml in another folder: its trusted keys still found, its footage as given."""
    yaml = YAML()
    site = yaml.load(DEMO_SITE.read_text())
    for trusted in site["signing"]["keys"]:
        trusted["public_key"] = str((DEMO_SITE.parent / trusted["public_key"]).resolve())
    site["cameras"][0]["source"] = footage
    copy = tmp_path / "elsewhere" / "demo.yaml"
    copy.parent.mkdir()
    with copy.open("w") as out:
        yaml.dump(site, out)
    return copy


def test_a_moved_copy_with_relative_footage_fails_the_check_at_the_footage_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy_elsewhere(tmp_path, "../../.data/footage/vtest.avi")
    line, column = next(
        (number, text.index("../") + 1)
        for number, text in enumerate(copy.read_text().splitlines(), start=1)
        if "source: ../../.data/footage/vtest.avi" in text
    )

    assert main(["config", "check", str(copy)]) == 1
    missing = (copy.parent / "../../.data/footage/vtest.avi").resolve()
    assert capsys.readouterr().err.splitlines() == [
        f"{copy}:{line}:{column}: cameras.quay-cam-1.source: no such file {missing} (a relative "
        f"path is read from the folder of the config file, {copy.parent})"
    ]
    # The path it names is the one the worker, tune and zones preview would open.
    assert load_site(copy).cameras[0].source == str(missing)


def test_the_same_copy_with_its_footage_found_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    footage = (DEMO_SITE.parent / "../../.data/footage/vtest.avi").resolve()
    copy = _copy_elsewhere(tmp_path, str(footage))

    assert main(["config", "check", str(copy)]) == 0
    assert capsys.readouterr().out.startswith(f"{copy}: ok (config hash ")


def test_a_missing_model_file_is_named_at_its_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = _copy_elsewhere(tmp_path, "/dev/null")
    copy.write_text(copy.read_text().replace("model: default", "model: models/mine.onnx"))

    assert main(["config", "check", str(copy)]) == 1
    (error,) = capsys.readouterr().err.splitlines()
    assert error.startswith(f"{copy}:")
    assert f": detector.model: no such file {copy.parent / 'models' / 'mine.onnx'} (" in error
