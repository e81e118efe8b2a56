"""The compose stack validates with docker-compose and refers only to what exists.

`docker-compose config` (Debian's 1.29, no engine needed) resolves anchors, variables and
paths; the test then checks the resolved file against the site config schema, the
quaywatch CLI, the Prometheus scrape config and the Dockerfile.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from config.loading import load_site
from config.signing import Signing, WriterRole
from config.site import SiteConfig
from quaywatch.console.server import BOARD_FEEDS
from streams.correlator import loop as correlator
from streams.correlator.loop import GROUP_ID
from streams.signing import role_key_env
from streams.topics import written_by
from tests.deploy_support import (
    ACL_SCRIPT,
    COMMAND_ROLES,
    acl_grants,
    health_port,
    listen_host,
    parse_quaywatch,
    served_ports,
)

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "docker-compose.yml"
SITE = COMPOSE_DIR / "site.yaml"
DOCKERFILE = REPO / "Dockerfile"
# The brokers' own Kafka user, the admin's and one per writer role, each with its password.
KAFKA_USERS = ("broker", "admin", *(role.value for role in WriterRole))
PASSWORDS = {f"QUAYWATCH_KAFKA_{user.upper()}_PASSWORD": f"test-{user}" for user in KAFKA_USERS}
KNOWN_IMAGES = ("apache/kafka", "prom/prometheus", "grafana/grafana", "quaywatch")


def docker_compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    if shutil.which("docker-compose") is None:
        pytest.fail("docker-compose is not installed (make test installs Debian's package)")
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def services() -> dict[str, dict]:
    env = {k: v for k, v in os.environ.items() if k != "QUAYWATCH_MODEL_DIR"}
    result = docker_compose_config({**env, **PASSWORDS})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    # The public key files are the site's own, made with its private keys (README).
    return load_site(SITE, check_keys=False)


def quaywatch_services(services: dict[str, dict]) -> dict[str, dict]:
    return {name: s for name, s in services.items() if s["image"].startswith("quaywatch:")}


def mounts(service: dict) -> dict[str, str]:
    """Container path -> host path (or volume name)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        found[target] = source
    return found


@pytest.mark.parametrize("missing", sorted(PASSWORDS))
def test_compose_refuses_to_start_without_a_kafka_password(missing: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in PASSWORDS}
    env.update({k: v for k, v in PASSWORDS.items() if k != missing})
    result = docker_compose_config(env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_images_are_known_and_pinned(services: dict[str, dict]) -> None:
    for name, service in services.items():
        image, _, tag = service["image"].partition(":")
        assert image in KNOWN_IMAGES, f"{name}: {service['image']}"
        assert tag and tag != "latest", f"{name}: pin a version, got {service['image']}"
    for name, service in quaywatch_services(services).items():
        context = Path(service["build"]["context"])
        assert context == REPO, name
        assert (context / service["build"]["dockerfile"]).is_file(), name


def test_three_kraft_brokers_with_replication_three_and_min_isr_two(
    services: dict[str, dict], site: SiteConfig
) -> None:
    brokers = {
        n: s for n, s in services.items() if "KAFKA_PROCESS_ROLES" in s.get("environment", {})
    }
    assert len(brokers) == 3
    advertised = set()
    for name, broker in brokers.items():
        env = broker["environment"]
        assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}, name
        assert len(env["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(",")) == 3, name
        assert env["KAFKA_MIN_INSYNC_REPLICAS"] == "2", name
        assert env["KAFKA_DEFAULT_REPLICATION_FACTOR"] == "3", name
        assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false", name
        protocols = dict(
            p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
        )
        assert protocols["CLIENT"] == site.kafka.security_protocol, name
        assert site.kafka.sasl_mechanism in env["KAFKA_SASL_ENABLED_MECHANISMS"].split(","), name
        clients = env["KAFKA_LISTENER_NAME_CLIENT_PLAIN_SASL_JAAS_CONFIG"]
        for user in KAFKA_USERS[1:]:
            assert f'user_{user}="test-{user}"' in clients, f"{name}: no Kafka user {user}"
        assert "user_broker" not in clients, f"{name}: the brokers' user is for their listeners"
        for listener in ("CONTROLLER", "INTERNAL"):
            assert protocols[listener] == "SASL_PLAINTEXT", f"{name}: {listener} without SASL"
            login = env[f"KAFKA_LISTENER_NAME_{listener}_PLAIN_SASL_JAAS_CONFIG"]
            assert 'username="broker"' in login and 'user_broker="test-broker"' in login, name
        client = re.search(r"CLIENT://([^,]+)", env["KAFKA_ADVERTISED_LISTENERS"])
        assert client, name
        advertised.add(client.group(1))
    assert set(site.kafka.bootstrap_servers) == advertised
    assert site.kafka.replication_factor == 3
    # No broker knows the site's own user: every service must name its role's (below).
    assert f"user_{site.kafka.sasl_username}=" not in str(brokers)


def test_brokers_authorize_with_acls_and_only_brokers_and_admin_are_super_users(
    services: dict[str, dict],
) -> None:
    for name, broker in services.items():
        env = broker.get("environment") or {}
        if "KAFKA_PROCESS_ROLES" not in env:
            continue
        assert env["KAFKA_AUTHORIZER_CLASS_NAME"] == (
            "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
        ), name
        assert set(env["KAFKA_SUPER_USERS"].split(";")) == {"User:broker", "User:admin"}, name
        assert env.get("KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND", "false") == "false", name


def test_every_quaywatch_command_parses_and_reads_the_mounted_site(
    services: dict[str, dict], site: SiteConfig
) -> None:
    commands = set()
    for name, service in quaywatch_services(services).items():
        parsed = parse_quaywatch(service["command"])
        commands.add(parsed.command)
        assert mounts(service)[str(parsed.config)] == str(SITE), name
        model_dir = str(Path(site.detector.model).parent)
        assert model_dir in mounts(service), f"{name}: {site.detector.model} is not mounted"
        user = service["environment"]["QUAYWATCH_KAFKA_USER"]
        assert user == (
            COMMAND_ROLES[parsed.command].value if parsed.command in COMMAND_ROLES else "admin"
        ), name
        assert service["environment"][site.kafka.sasl_password_env] == f"test-{user}", name
        if parsed.command in ("console", "terminal"):
            assert listen_host(parsed, site) == "0.0.0.0", f"{name}: must listen beyond it"
    assert commands == {"topics", "worker", "correlate", "terminal", "console"}
    assert site.metrics.host == "0.0.0.0"


def test_the_callback_endpoint_gets_each_subscription_secret_from_a_compose_secret(
    services: dict[str, dict], site: SiteConfig
) -> None:
    terminal = services["terminal"]
    mounted = {f"/run/secrets/{secret['source']}" for secret in terminal["secrets"]}
    assert site.terminal.callback.subscriptions
    for subscription in site.terminal.callback.subscriptions:
        assert subscription.secret_env is None, "compose hands secrets over as files"
        assert str(subscription.secret_file) in mounted, subscription.id
    for name, service in quaywatch_services(services).items():
        sources = {secret["source"] for secret in service.get("secrets", [])}
        assert name == "terminal" or not sources & {"dcsa-subscription-secret"}, (
            f"{name}: needs no DCSA secret"
        )


def test_every_camera_is_watched_by_exactly_one_worker(
    services: dict[str, dict], site: SiteConfig
) -> None:
    watched: list[str] = []
    for service in quaywatch_services(services).values():
        parsed = parse_quaywatch(service["command"])
        if parsed.command == "worker":
            assert parsed.camera, "a worker without --camera would watch every camera"
            watched += parsed.camera
    assert sorted(watched) == sorted(c.id for c in site.cameras if c.enabled)


def test_two_correlators_in_one_consumer_group(services: dict[str, dict], site: SiteConfig) -> None:
    groups = [
        parse_quaywatch(s["command"]).group_id
        for s in quaywatch_services(services).values()
        if s["command"][0] == "correlate"
    ]
    assert len(groups) == 2 and len(set(groups)) == 1
    assert len(groups) <= site.kafka.partitions


def test_healthchecks_and_published_ports_are_the_processes_own(
    services: dict[str, dict], site: SiteConfig
) -> None:
    for name, service in quaywatch_services(services).items():
        parsed = parse_quaywatch(service["command"])
        port = health_port(parsed, site)
        if port is None:
            assert "healthcheck" not in service, name
            assert service["restart"] == "on-failure", f"{name}: a one-shot job"
            continue
        probe = " ".join(service["healthcheck"]["test"])
        assert f"http://127.0.0.1:{port}/healthz" in probe, name
        for published in service.get("ports", []):
            assert published["target"] in served_ports(parsed, site), name
        # Only the operators' and the terminal systems' entry points leave the host.
        assert bool(service.get("ports")) == (parsed.command in ("console", "terminal")), name


def test_topics_then_acl_job_run_before_the_processes(services: dict[str, dict]) -> None:
    done = {"condition": "service_completed_successfully"}
    assert services["kafka-acls"]["depends_on"]["topics"] == done
    for name, service in quaywatch_services(services).items():
        if service["command"][0] != "topics":
            assert service["depends_on"]["kafka-acls"] == done, name


def test_every_producing_service_gets_its_own_roles_signing_key_and_no_other(
    services: dict[str, dict],
) -> None:
    secrets = yaml.safe_load(COMPOSE.read_text())["secrets"]
    for name, service in quaywatch_services(services).items():
        parsed = parse_quaywatch(service["command"])
        mounted = {secret["source"] for secret in service.get("secrets", [])}
        keys = {source for source in mounted if source.startswith("signing-key-")}
        variables = {k for k in service["environment"] if k.startswith("QUAYWATCH_SIGNING_KEY")}
        role = COMMAND_ROLES.get(parsed.command)
        if role is None:
            assert not keys and not variables, f"{name}: signs nothing, needs no key"
            continue
        assert keys == {f"signing-key-{role.value}"}, f"{name}: keys {sorted(keys)}"
        assert variables == {role_key_env(role)}, name
        assert (
            service["environment"][role_key_env(role)] == f"/run/secrets/signing-key-{role.value}"
        )
        key_file = Path(secrets[f"signing-key-{role.value}"]["file"])
        assert (COMPOSE_DIR / key_file).parent == COMPOSE_DIR / "secrets", "kept out of git"
        for source in mounts(service).values():
            assert not source.endswith(".pem"), f"{name}: {source} mounted beside the secrets"


def test_site_trusts_a_public_key_per_role_mounted_into_every_service(
    services: dict[str, dict], site: SiteConfig
) -> None:
    assert sorted(key.role.value for key in site.signing.keys) == sorted(
        r.value for r in WriterRole
    )
    for name, service in quaywatch_services(services).items():
        mounted = mounts(service)
        for key in site.signing.keys:
            host = key.public_key.relative_to(COMPOSE_DIR)
            folder = f"/etc/quaywatch/{host.parent}"
            assert Path(mounted[folder]) == COMPOSE_DIR / host.parent, f"{name}: {key.role}"
            assert key.public_key.suffix == ".pub", "public keys only"


def test_acl_job_runs_the_acl_script_as_admin_on_the_sites_topics(
    services: dict[str, dict], site: SiteConfig
) -> None:
    job = services["kafka-acls"]
    assert Path(mounts(job)["/etc/quaywatch/kafka-acls.sh"]) == ACL_SCRIPT
    assert "sh /etc/quaywatch/kafka-acls.sh" in job["command"][0]
    assert 'username=\\"admin\\"' in job["command"][0]
    env = job["environment"]
    assert env["TOPIC_PREFIX"] == site.kafka.topic_prefix
    assert set(env["KAFKA_BOOTSTRAP"].split(",")) == set(site.kafka.bootstrap_servers)


# What the processes of each role read, as they declare it themselves.
READS = {WriterRole.correlator: correlator.READS, WriterRole.console: tuple(BOARD_FEEDS)}


def test_acls_let_each_role_write_only_the_topics_it_may_write(site: SiteConfig) -> None:
    grants = acl_grants(site.kafka.topic_prefix)
    for role in WriterRole:
        mine = [grant for grant in grants if grant.principal == role.value]
        writes = {g.name for g in mine if "WRITE" in g.operations}
        reads = {g.name for g in mine if g.resource == "topic" and "READ" in g.operations}
        assert writes == {site.kafka.topic(topic) for topic in written_by(role)}, role
        assert reads == {site.kafka.topic(topic) for topic in READS.get(role, ())}, role
    assert {grant.principal for grant in grants} == {role.value for role in WriterRole}
    for grant in grants:
        allowed = {"WRITE", "DESCRIBE"} if "WRITE" in grant.operations else {"READ", "DESCRIBE"}
        assert grant.operations <= allowed, grant
        if grant.resource == "group":
            assert (grant.principal, grant.name, grant.pattern, grant.operations) == (
                "correlator",
                f"{GROUP_ID}.",
                "prefixed",
                {"READ"},
            )
        else:
            assert grant.pattern == "literal", grant


def test_prometheus_scrapes_every_process_on_its_metrics_port(
    services: dict[str, dict], site: SiteConfig
) -> None:
    prometheus = services["prometheus"]
    config_path = Path(mounts(prometheus)["/etc/prometheus/prometheus.yml"])
    config = yaml.safe_load(config_path.read_text())
    rules = mounts(prometheus)
    for rule_file in config["rule_files"]:
        assert Path(rules[rule_file]) == REPO / "deploy" / "prometheus" / "quaywatch-rules.yml"
    scraped: dict[str, int] = {}
    for job in config["scrape_configs"]:
        for static in job["static_configs"]:
            for target in static["targets"]:
                host, port = target.rsplit(":", 1)
                scraped[host] = int(port)
        if "basic_auth" in job:
            assert job["basic_auth"]["password_file"] in mounts(prometheus), job["job_name"]
    expected = {}
    for name, service in quaywatch_services(services).items():
        port = health_port(parse_quaywatch(service["command"]), site)
        if port is not None:
            expected[name] = port
    assert scraped == expected


def test_grafana_provisions_the_dashboard_and_the_datasource(services: dict[str, dict]) -> None:
    grafana = mounts(services["grafana"])
    dashboards = yaml.safe_load(
        Path(grafana["/etc/grafana/provisioning/dashboards/quaywatch.yml"]).read_text()
    )
    folder = dashboards["providers"][0]["options"]["path"]
    dashboard = grafana[f"{folder}/quaywatch.json"]
    assert Path(dashboard) == REPO / "deploy" / "grafana" / "quaywatch.json"
    datasources = yaml.safe_load(
        Path(grafana["/etc/grafana/provisioning/datasources/quaywatch.yml"]).read_text()
    )
    url = datasources["datasources"][0]["url"]
    assert url == "http://prometheus:9090" and "9090" in str(services["prometheus"]["ports"])


def test_dockerfile_is_headless_non_root_offline_and_runs_quaywatch(site: SiteConfig) -> None:
    text = DOCKERFILE.read_text()
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert re.search(r"^\s*YOLO_OFFLINE=1", text, re.M)
    assert re.search(r'^ENTRYPOINT \["quaywatch"\]', text, re.M)
    for source in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (REPO / source).exists(), source
    exposed = {int(p) for line in re.findall(r"^EXPOSE (.+)$", text, re.M) for p in line.split()}
    metrics = site.metrics
    assert {
        metrics.worker_port,
        metrics.correlator_port,
        metrics.terminal_port,
        metrics.console_port,
        site.terminal.callback.port,
    } <= exposed
    assert "DISPLAY" not in text, "headless: no X display inside the image"


def compose_site_with_keys(folder: Path, signing: Signing, trusted: set[WriterRole]) -> Path:
    """The compose site.yaml in `folder`, with keys/ holding the public keys of `trusted`."""
    (folder / "keys").mkdir()
    for key in signing.keys:
        if key.role in trusted:
            shutil.copy(key.public_key, folder / "keys" / f"{key.role.value}.pub")
    text = SITE.read_text()
    for role in set(WriterRole) - trusted:
        text = text.replace(
            f"    - {{role: {role.value}, public_key: keys/{role.value}.pub}}\n", ""
        )
    (folder / "site.yaml").write_text(text)
    return folder / "site.yaml"


def start(command: list[str], site: Path, without: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != without}
    return subprocess.run(
        [sys.executable, "-m", "quaywatch", *command, "--config", str(site)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


STARTS = [
    (["worker"], WriterRole.camera),
    (["correlate"], WriterRole.correlator),
    (["terminal", "serve"], WriterRole.terminal),
    (["console"], WriterRole.console),
]


@pytest.mark.parametrize(("command", "role"), STARTS, ids=[r.value for _, r in STARTS])
def test_a_process_without_its_roles_key_refuses_to_start_in_one_line(
    command: list[str], role: WriterRole, role_keys: Signing, tmp_path: Path
) -> None:
    site = compose_site_with_keys(tmp_path, role_keys, set(WriterRole))
    result = start(command, site, without=role_key_env(role))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert role_key_env(role) in lines[0] and "Traceback" not in result.stderr


def test_a_process_with_an_unreadable_key_names_the_variable(
    role_keys: Signing, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = compose_site_with_keys(tmp_path, role_keys, set(WriterRole))
    variable = role_key_env(WriterRole.correlator)
    monkeypatch.setenv(variable, str(tmp_path / "no-such-key.pem"))
    result = start(["correlate"], site, without=None)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert variable in line and "no-such-key.pem" in line


def test_a_correlator_whose_site_trusts_no_camera_key_refuses_to_start(
    role_keys: Signing, tmp_path: Path
) -> None:
    site = compose_site_with_keys(tmp_path, role_keys, set(WriterRole) - {WriterRole.camera})
    result = start(["correlate"], site, without=None)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert "no trusted key of the camera role" in line and "access" in line
