"""The site config's trusted keys: read relative to the config file, checked when loaded, and
reported at their line when they cannot be used."""

from __future__ import annotations

from pathlib import Path

import pytest

from config.loading import ConfigError, load_site
from config.signing import WriterRole
from streams.signing import KeyRing, generate_key

SITE = """\
site: {id: test-site}
cameras:
  - {id: cam-1, source: footage.avi}
signing:
  keys:
    - role: camera
      key_id: %s
      public_key: %s
"""


def site_trusting(directory: Path, key_id: str, public_key: str) -> Path:
    path = directory / "site.yaml"
    path.write_text(SITE % (key_id, public_key))
    return path


def test_a_trusted_key_is_read_relative_to_the_config_file(tmp_path: Path) -> None:
    signer = generate_key(tmp_path / "keys" / "camera.pem")

    site = load_site(site_trusting(tmp_path, signer.key_id, "keys/camera.pub"))

    [trusted] = site.signing.keys
    assert trusted.public_key == tmp_path / "keys" / "camera.pub"
    assert "camera" in KeyRing.from_config(site.signing).describe()


def test_a_missing_key_file_is_reported_at_its_line(tmp_path: Path) -> None:
    path = site_trusting(tmp_path, "0123456789abcdef", "keys/camera.pub")

    with pytest.raises(ConfigError) as raised:
        load_site(path)

    [message] = raised.value.messages
    assert message.startswith(f"{path}:8:19: signing.keys[0].public_key: cannot read ")
    assert "No such file" in message


def test_a_key_file_holding_another_key_than_its_id_is_reported(tmp_path: Path) -> None:
    generate_key(tmp_path / "camera.pem")

    with pytest.raises(ConfigError) as raised:
        load_site(site_trusting(tmp_path, "0123456789abcdef", "camera.pub"))

    [message] = raised.value.messages
    assert ":8:19: signing.keys[0].public_key: " in message
    assert "not 0123456789abcdef; fix key_id" in message


def test_an_unknown_role_is_reported_with_the_roles_there_are(tmp_path: Path) -> None:
    path = tmp_path / "site.yaml"
    path.write_text((SITE % ("0123456789abcdef", "camera.pub")).replace("camera\n", "crane\n"))

    with pytest.raises(ConfigError) as raised:
        load_site(path)

    assert any(
        ":6:13: signing.keys[0].role: " in m and all(r.value in m for r in WriterRole)
        for m in raised.value.messages
    ), raised.value.messages
