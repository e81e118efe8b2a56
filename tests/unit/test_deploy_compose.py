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
from pathlib import Path

import pytest
import yaml

from config.loading import load_site
from config.site import SiteConfig
from tests.deploy_support import health_port, listen_host, parse_quaywatch, served_ports

REPO = Path(__file__).resolve().parents[2]
COMPOSE_DIR = REPO / "deploy" / "compose"
COMPOSE = COMPOSE_DIR / "docker-compose.yml"
SITE = COMPOSE_DIR / "site.yaml"
DOCKERFILE = REPO / "Dockerfile"
PASSWORD_VARIABLE = "QUAYWATCH_KAFKA_PASSWORD"
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
    result = docker_compose_config({**env, PASSWORD_VARIABLE: "test-only-password"})
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return load_site(SITE)


def quaywatch_services(services: dict[str, dict]) -> dict[str, dict]:
    return {name: s for name, s in services.items() if s["image"].startswith("quaywatch:")}


def mounts(service: dict) -> dict[str, str]:
    """Container path -> host path (or volume name)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        found[target] = source
    return found


def test_compose_refuses_to_start_without_the_kafka_password() -> None:
    env = {k: v for k, v in os.environ.items() if k != PASSWORD_VARIABLE}
    result = docker_compose_config(env)
    assert result.returncode != 0
    assert PASSWORD_VARIABLE in result.stderr


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
    brokers = {n: s for n, s in services.items() if s["image"].startswith("apache/kafka:")}
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
        assert (
            'user_quaywatch="test-only-password"'
            in env["KAFKA_LISTENER_NAME_CLIENT_PLAIN_SASL_JAAS_CONFIG"]
        ), name
        client = re.search(r"CLIENT://([^,]+)", env["KAFKA_ADVERTISED_LISTENERS"])
        assert client, name
        advertised.add(client.group(1))
    assert set(site.kafka.bootstrap_servers) == advertised
    assert site.kafka.replication_factor == 3
    assert site.kafka.sasl_username == "quaywatch"


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
        assert service["environment"][site.kafka.sasl_password_env] == "test-only-password"
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
        assert name == "terminal" or "secrets" not in service, f"{name}: needs no DCSA secret"


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


def test_topics_job_runs_before_the_processes(services: dict[str, dict]) -> None:
    for name, service in quaywatch_services(services).items():
        if service["command"][0] != "topics":
            assert service["depends_on"]["topics"]["condition"] == (
                "service_completed_successfully"
            ), name


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
