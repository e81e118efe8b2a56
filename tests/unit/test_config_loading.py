"""Site config loading: every mistake in a site file is reported as FILE:LINE:COL: field: why."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from ruamel.yaml import YAML

from config.loading import ConfigError, load_site
from config.signing import WriterRole

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "config" / "sites" / "demo.yaml"

# The mark on the line every broken site below must be reported at.
HERE = "# <- error"


# The parts most sites below are made of: a site, its one camera, and a zone on that camera.
SITE = "site: {id: test-site}"
CAMERAS = """
cameras:
  - {id: cam-1, source: footage.avi}
"""
QUAY_NORTH = """
zones:
  - id: quay-north
    camera: cam-1
"""
TRIANGLE = "[[0, 0], [100, 0], [100, 100]]"


def site_yaml(*parts: str) -> str:
    """A site file made of `parts`, each written indented as it reads best in the test."""
    return "".join(textwrap.dedent(part).strip("\n") + "\n" for part in parts)


def zone_site(zone_keys: str = "", polygon: str | None = TRIANGLE) -> str:
    """SITE, CAMERAS and QUAY_NORTH; the zone gets `polygon` (None: no polygon) and `zone_keys`."""
    keys = [f"polygon: {polygon}"] if polygon is not None else []
    keys += textwrap.dedent(zone_keys).strip("\n").splitlines()
    return site_yaml(SITE, CAMERAS, QUAY_NORTH) + "".join(f"    {key}\n" for key in keys)


def write_site(directory: Path, text: str) -> Path:
    path = directory / "site.yaml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def marked_line(path: Path) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, start=1) if HERE in line)


def config_check(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quaywatch", "config", *arguments],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


# Each broken site: (what is wrong, the YAML, the field path named, words the message holds).
BROKEN_SITES = [
    (
        "a required field is missing: reported at the mapping that lacks it",
        site_yaml(
            """
            site:
              name: Demo  # <- error
            """,
            CAMERAS,
        ),
        "site.id",
        "required field is missing",
    ),
    (
        "a zone without a polygon: the path names the zone by its id",
        site_yaml(
            SITE,
            CAMERAS,
            """
            zones:
              - {id: quay-north, camera: cam-1}  # <- error
            """,
        ),
        "zones.quay-north.polygon",
        "required field is missing",
    ),
    (
        "an unknown key: reported at the key, with the likely intended one",
        zone_site("min_scor: 0.5  # <- error"),
        "zones.quay-north.min_scor",
        "unknown key 'min_scor'; did you mean 'min_score'?",
    ),
    (
        "a polygon with two points",
        zone_site(
            """
            polygon:  # <- error
              - [0, 0]
              - [100, 0]
            """,
            polygon=None,
        ),
        "zones.quay-north.polygon",
        "needs at least 3 points, got 2",
    ),
    (
        "a polygon whose corners lie on one line",
        zone_site(polygon="[[0, 0], [50, 50], [100, 100]]  # <- error"),
        "zones.quay-north.polygon",
        "no area",
    ),
    (
        "a zone naming a camera the site does not have",
        site_yaml(
            SITE,
            CAMERAS,
            """
            zones:
              - {id: quay-north, camera: cam-9, polygon: [[0, 0], [100, 0], [100, 100]]}  # <- error
            """,
        ),
        "zones.quay-north.camera",
        "unknown camera 'cam-9'; cameras are cam-1",
    ),
    (
        "two zones with the same id: the second is reported",
        site_yaml(
            SITE,
            CAMERAS,
            """
            zones:
              - {id: quay-north, camera: cam-1, polygon: [[0, 0], [100, 0], [100, 100]]}
              - {id: quay-north, camera: cam-1, polygon: [[0, 0], [90, 0], [90, 90]]}  # <- error
            """,
        ),
        "zones.quay-north.id",
        "duplicate zone id 'quay-north'",
    ),
    (
        "a schedule time that is not a time of day",
        zone_site(
            """
            schedule:
              - start: "25:00"  # <- error
                end: "06:00"
            """
        ),
        "zones.quay-north.schedule[0].start",
        "expected a time of day HH:MM from 00:00 to 23:59, got '25:00'",
    ),
    (
        "a schedule window that starts when it ends",
        zone_site(
            """
            schedule:
              - start: "22:00"
                end: "22:00"  # <- error
            """
        ),
        "zones.quay-north.schedule[0].end",
        "the window would be empty",
    ),
    (
        "a negative frame rate",
        site_yaml(
            SITE,
            """
            cameras:
              - id: cam-1
                source: footage.avi
                target_fps: -5  # <- error
            """,
        ),
        "cameras.cam-1.target_fps",
        "must be greater than 0, got -5",
    ),
    (
        "a minimum score above 1",
        zone_site("min_score: 1.5  # <- error"),
        "zones.quay-north.min_score",
        "must be at most 1, got 1.5",
    ),
    (
        "a single value where a list belongs",
        zone_site("yard_blocks: Q3  # <- error"),
        "zones.quay-north.yard_blocks",
        "expected a list, got 'Q3'",
    ),
    (
        "a crossing line whose ends are the same point",
        zone_site(
            """
            line:
              start: [10, 10]
              end: [10, 10]  # <- error
            """
        ),
        "zones.quay-north.line.end",
        "a line needs length",
    ),
    (
        "a SASL protocol without a mechanism: reported at the kafka section",
        site_yaml(
            SITE,
            CAMERAS,
            """
            kafka:
              security_protocol: SASL_SSL  # <- error
              sasl_username: quaywatch
            """,
        ),
        "kafka.sasl_mechanism",
        "SASL_SSL needs sasl_mechanism",
    ),
    (
        "a polygon corner beyond the camera's resolution",
        site_yaml(
            SITE,
            """
            cameras:
              - id: cam-1
                source: footage.avi
                resolution: {width: 768, height: 576}
            zones:
              - id: quay-north
                camera: cam-1
                polygon:
                  - [0, 0]
                  - [100, 0]
                  - [900, 100]  # <- error
            """,
        ),
        "zones.quay-north.polygon[2]",
        "corner [900, 100] lies outside the camera image (768x576)",
    ),
    (
        "an id with a space",
        site_yaml(
            SITE,
            """
            cameras:
              - id: quay cam  # <- error
                source: footage.avi
            """,
        ),
        "cameras[0].id",
        "'quay cam' is not a valid id",
    ),
    (
        "a time zone that does not exist",
        site_yaml(
            """
            site:
              id: test-site
              timezone: Europe/Rotterdam  # <- error
            """,
            CAMERAS,
        ),
        "site.timezone",
        "unknown time zone 'Europe/Rotterdam'",
    ),
]


@pytest.mark.parametrize(
    ("yaml_text", "field_path", "words"),
    [case[1:] for case in BROKEN_SITES],
    ids=[case[0] for case in BROKEN_SITES],
)
def test_broken_site_names_file_line_and_field(
    tmp_path: Path, yaml_text: str, field_path: str, words: str
) -> None:
    path = write_site(tmp_path, yaml_text)

    with pytest.raises(ConfigError) as raised:
        load_site(path)

    [message] = raised.value.messages
    assert message.startswith(f"{path}:{marked_line(path)}:")
    assert f": {field_path}: " in message
    assert words in message


def test_error_message_reads_file_line_column_path_reason(tmp_path: Path) -> None:
    path = write_site(
        tmp_path,
        """
        site: {id: test-site}
        cameras:
          - {id: cam-1, source: footage.avi}
        zones:
          - id: quay-north
            camera: cam-1
            polygon: [[0, 0], [100, 0]]
        """,
    )

    with pytest.raises(ConfigError) as raised:
        load_site(path)

    assert raised.value.messages == [
        f"{path}:7:5: zones.quay-north.polygon: needs at least 3 points, got 2"
    ]


def test_every_error_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write_site(
        tmp_path,
        """
        site: {id: test-site}
        cameras:
          - id: cam-1
            source: footage.avi
            target_fps: 0
        zones:
          - id: quay-north
            camera: cam-2
            polygon: [[0, 0], [100, 0], [100, 100]]
            min_score: 2
        """,
    )

    with pytest.raises(ConfigError) as raised:
        load_site(path)

    assert raised.value.messages == [
        f"{path}:5:17: cameras.cam-1.target_fps: must be greater than 0, got 0",
        f"{path}:8:13: zones.quay-north.camera: unknown camera 'cam-2'; cameras are cam-1",
        f"{path}:10:16: zones.quay-north.min_score: must be at most 1, got 2",
    ]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("site: {id: test-site}\ncameras:\n  - id: cam-1: x\n", 3, "YAML syntax error"),
        ("", 1, "the file is empty"),
        ("# only a comment\n", 1, "the file is empty"),
        ("- site\n- cameras\n", 1, "the top level must be a mapping"),
        ("site: {id: a}\ncameras:\n  - id: c\n    id: d\n", 4, 'duplicate key "id"'),
    ],
    ids=["bad syntax", "empty", "only a comment", "a list at the top", "a key given twice"],
)
def test_unreadable_yaml_is_reported_with_its_position(
    tmp_path: Path, text: str, line: int, words: str
) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(ConfigError) as raised:
        load_site(path)

    [message] = raised.value.messages
    assert message.startswith(f"{path}:{line}:")
    assert words in message


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nowhere\.yaml:1:1: no such file"):
        load_site(tmp_path / "nowhere.yaml")


def test_relative_paths_resolve_against_the_config_file(tmp_path: Path) -> None:
    path = write_site(
        tmp_path,
        """
        site: {id: test-site}
        data_dir: ../data
        detector: {model: models/own.onnx}
        cameras:
          - {id: file-cam, source: footage/quay.avi}
          - {id: ip-cam, source: "rtsp://10.0.0.7/stream1"}
        """,
    )

    site = load_site(path)

    assert site.data_dir == tmp_path.parent.resolve() / "data"
    assert site.detector.model == str(tmp_path.resolve() / "models" / "own.onnx")
    assert site.camera("file-cam").source == str(tmp_path.resolve() / "footage" / "quay.avi")
    assert site.camera("ip-cam").source == "rtsp://10.0.0.7/stream1"


def test_demo_site_loads_with_its_camera_and_zones() -> None:
    site = load_site(DEMO)

    assert site.site.id == "rtm-demo"
    camera = site.camera("quay-cam-1")
    assert camera.source == str(REPO / ".data" / "footage" / "vtest.avi")
    assert camera.loop and camera.target_fps == 5
    assert {zone.id for zone in site.zones} >= {
        "quay-q3",
        "gate-lane",
        "reefer-row",
        "empty-corner",
    }
    assert site.data_dir == REPO / ".data"
    assert {trusted.role for trusted in site.signing.keys} == set(WriterRole)


def test_config_check_accepts_the_demo_site() -> None:
    result = config_check("check", "config/sites/demo.yaml")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("config/sites/demo.yaml: ok (config hash ")


def test_config_check_exits_1_and_prints_every_message(tmp_path: Path) -> None:
    path = write_site(
        tmp_path,
        """
        site: {id: test-site}
        cameras:
          - {id: cam-1, source: footage.avi, target_fps: -1}
        zones:
          - id: quay-north
            camera: cam-1
            polygon: [[0, 0], [100, 0]]
        """,
    )

    result = config_check("check", str(DEMO), str(path))

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:3:50: cameras.cam-1.target_fps: must be greater than 0, got -1",
        f"{path}:7:5: zones.quay-north.polygon: needs at least 3 points, got 2",
    ]
    assert "demo.yaml: ok" in result.stdout


def test_config_check_reports_bad_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text("site:\n  id: test-site\n cameras: []\n", encoding="utf-8")

    result = config_check("check", str(path))

    assert result.returncode == 1
    assert result.stderr.startswith(f"{path}:3:")


def test_config_schema_is_json_schema_that_accepts_the_demo_site() -> None:
    result = config_check("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)

    Draft202012Validator.check_schema(schema)
    demo_as_an_editor_reads_it = YAML(typ="safe").load(DEMO.read_text(encoding="utf-8"))
    Draft202012Validator(schema).validate(demo_as_an_editor_reads_it)


def test_config_schema_rejects_an_unknown_key() -> None:
    schema = json.loads(config_check("schema").stdout)
    site = YAML(typ="safe").load(DEMO.read_text(encoding="utf-8"))
    site["zones"][0]["polgon"] = site["zones"][0].pop("polygon")

    assert list(Draft202012Validator(schema).iter_errors(site))


def test_config_hash_is_the_same_for_the_same_file_in_any_folder(tmp_path: Path) -> None:
    elsewhere = tmp_path / "another" / "checkout"
    elsewhere.mkdir(parents=True)
    copy = elsewhere / "demo.yaml"
    copy.write_text(DEMO.read_text())
    # Key files are read by path, like the footage: the hash is of the config alone.
    here, there = load_site(DEMO, check_keys=False), load_site(copy, check_keys=False)
    assert here.data_dir != there.data_dir  # paths resolve per folder ...
    assert here.config_hash() == there.config_hash()  # ... the config is still the same


def test_a_changed_config_has_another_hash() -> None:
    site = load_site(DEMO, check_keys=False)
    longer = site.correlation.model_copy(update={"fresh_unload_minutes": 480})
    assert site.model_copy(update={"correlation": longer}).config_hash() != site.config_hash()
    assert site.model_copy().config_hash() == site.config_hash()
