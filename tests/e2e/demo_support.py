"""The demo site as shipped, moved out of the way of every other run: free ports, and a data
directory of the test's own (the demo's broker keeps its log there), with the real model and
footage from the repository's data directory."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from streams.broker.embedded import free_port
from tests.fixtures.resources import DEMO_SITE, REPO

RUNNING = "Ctrl-C stops everything"  # the last line of the demo's banner
README = REPO / "README.md"
AUDIT_SECTION = "## Auditing the demo"


@dataclass(frozen=True)
class DemoSite:
    config: Path
    data_dir: Path
    site: dict

    @property
    def bootstrap(self) -> list[str]:
        return self.site["kafka"]["bootstrap_servers"]


def demo_site_on_free_ports(tmp_path: Path, footage: Path, model: Path) -> DemoSite:
    """The demo site on free ports, with its data under tmp_path; `model` is the dynamic-shape
    export the demo's region inference runs."""
    site = yaml.safe_load(DEMO_SITE.read_text())
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    site["data_dir"] = str(data_dir)
    site["detector"]["model"] = str(model)
    site["cameras"][0]["source"] = str(footage)
    for trusted in site["signing"]["keys"]:
        trusted["public_key"] = str(tmp_path / "keys" / Path(trusted["public_key"]).name)
    site["kafka"]["bootstrap_servers"] = [f"127.0.0.1:{free_port()}"]
    site["terminal"]["callback"]["port"] = free_port()
    site["metrics"] = {
        "worker_port": free_port(),
        "correlator_port": free_port(),
        "terminal_port": free_port(),
        "console_port": free_port(),
    }
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(site))
    return DemoSite(path, data_dir, site)


def wait_for_line(process: subprocess.Popen[str], marker: str, timeout_s: float) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} in the demo's output:\n{''.join(lines)}")


def readme_audit_commands() -> list[str]:
    """The copy-paste commands of the README's "Auditing the demo", as written there."""
    text = README.read_text()
    section = text[text.index(AUDIT_SECTION) :]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, f"no ```sh block under {AUDIT_SECTION!r} in {README}"
    return [line for line in block[1].splitlines() if line.strip()]
