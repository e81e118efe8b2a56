"""The house rules of the layout (README, Layout): data flows ingest -> detectors -> streams,
`config` is read by all, the parts never import the application shell `quaywatch`, and every
module stays small enough to read in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PARTS = ("config", "ingest", "detectors", "streams")
# What each part may import of the project, the part itself included.
ALLOWED = {
    "config": {"config"},
    "ingest": {"config", "ingest"},
    "detectors": {"config", "ingest", "detectors"},
    "streams": {"config", "ingest", "detectors", "streams"},
}
PROJECT = {"quaywatch", *PARTS}
MAX_MODULE_LINES = 400


def project_imports(path: Path) -> set[str]:
    """The top-level project packages a module imports, wherever in it the import stands."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    return imported & PROJECT


@pytest.mark.parametrize("part", PARTS)
def test_a_part_imports_only_what_comes_before_it(part: str) -> None:
    offenders = {
        str(path.relative_to(REPO)): sorted(project_imports(path) - ALLOWED[part])
        for path in (REPO / part).rglob("*.py")
    }
    assert {module: wrong for module, wrong in offenders.items() if wrong} == {}


def test_no_module_is_longer_than_a_sitting() -> None:
    lengths = {
        str(path.relative_to(REPO)): len(path.read_text().splitlines())
        for folder in ("quaywatch", *PARTS, "bench")
        for path in (REPO / folder).rglob("*.py")
    }
    assert {module: n for module, n in lengths.items() if n > MAX_MODULE_LINES} == {}
