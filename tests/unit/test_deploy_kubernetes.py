"""The Kubernetes manifests parse and refer only to what exists: the site schema, the CLI,
the ConfigMap and Secret keys, the volumes, and the ports the processes really serve."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config.loading import load_site
from config.signing import WriterRole
from config.site import SiteConfig
from streams.signing import role_key_env
from tests.deploy_support import (
    ACL_SCRIPT,
    COMMAND_ROLES,
    DEPLOY,
    health_port,
    listen_host,
    parse_quaywatch,
)

MANIFESTS = DEPLOY / "kubernetes"
NAMESPACE = "quaywatch"
KAFKA_IMAGE = "apache/kafka:"
KINDS = {
    "Namespace",
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "Deployment",
    "Service",
    "Job",
}


@pytest.fixture(scope="module")
def objects() -> list[dict]:
    found = []
    for path in sorted(MANIFESTS.glob("*.yaml")):
        found += [doc for doc in yaml.safe_load_all(path.read_text()) if doc]
    return found


def of_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.fixture(scope="module")
def site(objects: list[dict], tmp_path_factory: pytest.TempPathFactory) -> SiteConfig:
    path = tmp_path_factory.mktemp("k8s") / "site.yaml"
    path.write_text(of_kind(objects, "ConfigMap")["quaywatch-site"]["data"]["site.yaml"])
    # The public keys are the site's own (README); the ConfigMap holds placeholders.
    return load_site(path, check_keys=False)


def pod_specs(objects: list[dict]) -> dict[str, dict]:
    """The pods that run quaywatch (the ACL Job runs Kafka's own tool)."""
    return {
        f"{o['kind']}/{o['metadata']['name']}": o["spec"]["template"]
        for o in objects
        if o["kind"] in ("Deployment", "Job")
        and not o["spec"]["template"]["spec"]["containers"][0]["image"].startswith(KAFKA_IMAGE)
    }


def test_every_object_is_known_and_in_the_namespace(objects: list[dict]) -> None:
    for item in objects:
        assert item["kind"] in KINDS, item["kind"]
        assert item["apiVersion"] and item["metadata"]["name"]
        if item["kind"] != "Namespace":
            assert item["metadata"]["namespace"] == NAMESPACE, item["metadata"]["name"]
    assert NAMESPACE in of_kind(objects, "Namespace")


def test_site_config_is_production_kafka(site: SiteConfig) -> None:
    assert site.kafka.security_protocol == "SASL_SSL"
    assert site.kafka.replication_factor == 3
    assert site.kafka.sasl_password is None, "the password belongs in the Secret"
    assert site.kafka.sasl_password_env and site.kafka.ssl_cafile
    assert site.metrics.host == "0.0.0.0"


def test_containers_run_parsable_commands_on_the_mounted_site(
    objects: list[dict], site: SiteConfig
) -> None:
    config_maps = of_kind(objects, "ConfigMap")
    secrets = of_kind(objects, "Secret")
    claims = of_kind(objects, "PersistentVolumeClaim")
    images = set()
    for where, template in pod_specs(objects).items():
        spec = template["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        volumes = {v["name"]: v for v in spec["volumes"]}
        for volume in volumes.values():
            if "configMap" in volume:
                assert volume["configMap"]["name"] in config_maps, where
            if "secret" in volume:
                keys = secrets[volume["secret"]["secretName"]]["stringData"]
                assert all(item["key"] in keys for item in volume["secret"]["items"]), where
            if "persistentVolumeClaim" in volume:
                assert volume["persistentVolumeClaim"]["claimName"] in claims, where
        for container in spec["containers"]:
            images.add(container["image"])
            parsed = parse_quaywatch(container["args"])
            mounted = {m["mountPath"]: m for m in container["volumeMounts"]}
            assert all(m["name"] in volumes for m in mounted.values()), where
            site_mount = mounted[str(parsed.config)]
            config_map = config_maps[volumes[site_mount["name"]]["configMap"]["name"]]
            assert site_mount["subPath"] in config_map["data"], where
            env = {e["name"]: e for e in container.get("env", [])}
            secret_ref = env[site.kafka.sasl_password_env]["valueFrom"]["secretKeyRef"]
            assert secret_ref["key"] in secrets[secret_ref["name"]]["stringData"], where
            ca_dir, ca_name = str(site.kafka.ssl_cafile.parent), site.kafka.ssl_cafile.name
            ca_volume = volumes[mounted[ca_dir]["name"]]["secret"]
            assert ca_name in [item["path"] for item in ca_volume["items"]], where
            if parsed.command in ("worker",):
                assert str(Path(site.detector.model).parent) in mounted, where
                assert str(site.data_dir) in mounted, where
    assert len(images) == 1, f"one quaywatch image for every process, got {images}"


def test_the_callback_endpoint_listens_beyond_the_pod_with_each_subscription_secret(
    objects: list[dict], site: SiteConfig
) -> None:
    [container] = of_kind(objects, "Deployment")["terminal"]["spec"]["template"]["spec"][
        "containers"
    ]
    parsed = parse_quaywatch(container["args"])
    assert listen_host(parsed, site) == "0.0.0.0"
    env = {e["name"]: e for e in container.get("env", [])}
    secrets = of_kind(objects, "Secret")
    assert site.terminal.callback.subscriptions
    for subscription in site.terminal.callback.subscriptions:
        reference = env[subscription.secret_env]["valueFrom"]["secretKeyRef"]
        assert reference["key"] in secrets[reference["name"]]["stringData"], subscription.id


def test_probes_ask_the_real_healthz_on_the_process_port(
    objects: list[dict], site: SiteConfig
) -> None:
    for where, template in pod_specs(objects).items():
        for container in template["spec"]["containers"]:
            port = health_port(parse_quaywatch(container["args"]), site)
            if port is None:
                assert "livenessProbe" not in container, where
                continue
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            for probe in ("readinessProbe", "livenessProbe"):
                check = container[probe]["httpGet"]
                assert check["path"] == "/healthz", f"{where} {probe}"
                assert ports[check["port"]] == port, f"{where} {probe}"
            annotations = template["metadata"]["annotations"]
            assert annotations["prometheus.io/port"] == str(port), where


def test_every_camera_is_on_exactly_one_single_replica_worker(
    objects: list[dict], site: SiteConfig
) -> None:
    watched: list[str] = []
    for deployment in of_kind(objects, "Deployment").values():
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            parsed = parse_quaywatch(container["args"])
            if parsed.command == "worker":
                assert parsed.camera, deployment["metadata"]["name"]
                assert deployment["spec"]["replicas"] == 1
                assert deployment["spec"]["strategy"]["type"] == "Recreate"
                watched += parsed.camera
    assert sorted(watched) == sorted(c.id for c in site.cameras if c.enabled)


def test_correlator_replicas_are_consumer_group_members(
    objects: list[dict], site: SiteConfig
) -> None:
    correlator = of_kind(objects, "Deployment")["correlator"]
    parsed = parse_quaywatch(correlator["spec"]["template"]["spec"]["containers"][0]["args"])
    assert parsed.command == "correlate" and parsed.group_id
    assert 2 <= correlator["spec"]["replicas"] <= site.kafka.partitions


def test_services_select_deployments_and_their_named_ports(objects: list[dict]) -> None:
    deployments = of_kind(objects, "Deployment")
    services = of_kind(objects, "Service")
    assert {"console", "terminal"} <= set(services)
    for name, service in services.items():
        selector = service["spec"]["selector"]
        matches = [
            d
            for d in deployments.values()
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matches) == 1, name
        port_names = {
            p["name"]
            for c in matches[0]["spec"]["template"]["spec"]["containers"]
            for p in c["ports"]
        }
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names, name


def test_deployment_selectors_match_their_pods(objects: list[dict]) -> None:
    for name, deployment in of_kind(objects, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items(), name


def test_each_role_gets_only_its_own_private_key_and_kafka_user(
    objects: list[dict], site: SiteConfig
) -> None:
    secrets = of_kind(objects, "Secret")
    for where, template in pod_specs(objects).items():
        spec = template["spec"]
        volumes = {v["name"]: v for v in spec["volumes"]}
        signing_secrets = {
            v["secret"]["secretName"]
            for v in volumes.values()
            if v.get("secret", {}).get("secretName", "").startswith("quaywatch-signing-")
        }
        for container in spec["containers"]:
            role = COMMAND_ROLES.get(parse_quaywatch(container["args"]).command)
            env = {e["name"]: e for e in container.get("env", [])}
            variables = {name for name in env if name.startswith("QUAYWATCH_SIGNING_KEY")}
            user = env["QUAYWATCH_KAFKA_USER"]["value"]
            password = env[site.kafka.sasl_password_env]["valueFrom"]["secretKeyRef"]
            if role is None:
                assert not signing_secrets and not variables, f"{where}: signs nothing"
                assert user == "admin", where
                assert password["key"] == "admin-sasl-password", where
                continue
            assert user == role.value, where
            assert password["key"] == f"{role.value}-sasl-password", where
            assert signing_secrets == {f"quaywatch-signing-{role.value}"}, where
            assert variables == {role_key_env(role)}, where
            key_path = Path(env[role_key_env(role)]["value"])
            mounted = {m["mountPath"]: m for m in container["volumeMounts"]}
            mount = mounted[str(key_path.parent)]
            assert mount["readOnly"] is True, where
            volume = volumes[mount["name"]]["secret"]
            assert volume["secretName"] == f"quaywatch-signing-{role.value}", where
            assert [item["path"] for item in volume["items"]] == [key_path.name], where
            assert volume["defaultMode"] & 0o007 == 0, f"{where}: key readable by others"
            assert secrets[volume["secretName"]]["stringData"].keys() == {key_path.name}


def test_every_pod_trusts_a_public_key_per_role_from_the_configmap(
    objects: list[dict], site: SiteConfig
) -> None:
    config_maps = of_kind(objects, "ConfigMap")
    assert sorted(k.role.value for k in site.signing.keys) == sorted(r.value for r in WriterRole)
    written = yaml.safe_load(config_maps["quaywatch-site"]["data"]["site.yaml"])
    for where, template in pod_specs(objects).items():
        volumes = {v["name"]: v for v in template["spec"]["volumes"]}
        for container in template["spec"]["containers"]:
            parsed = parse_quaywatch(container["args"])
            if COMMAND_ROLES.get(parsed.command) is None:
                continue
            mounted = {m["mountPath"]: m for m in container["volumeMounts"]}
            for key in written["signing"]["keys"]:
                # Relative to the mounted site file, as the loader reads it.
                public_key = parsed.config.parent / key["public_key"]
                mount = mounted[str(public_key.parent)]
                assert mount["readOnly"] is True, where
                config_map = volumes[mount["name"]]["configMap"]["name"]
                assert public_key.name in config_maps[config_map]["data"], f"{where}: {key}"


def test_acl_job_runs_the_acl_script_as_admin_for_the_sites_cluster(
    objects: list[dict], site: SiteConfig
) -> None:
    config_maps = of_kind(objects, "ConfigMap")
    job = of_kind(objects, "Job")["quaywatch-kafka-acls"]["spec"]["template"]["spec"]
    [container] = job["containers"]
    volumes = {v["name"]: v for v in job["volumes"]}
    mounted = {m["mountPath"]: m for m in container["volumeMounts"]}
    command = container["args"][0]
    script_path = Path(command.rsplit("sh ", 1)[1])
    config_map = volumes[mounted[str(script_path.parent)]["name"]]["configMap"]["name"]
    assert config_maps[config_map]["data"][script_path.name] == ACL_SCRIPT.read_text()
    env = {e["name"]: e for e in container["env"]}
    assert env["TOPIC_PREFIX"]["value"] == site.kafka.topic_prefix
    assert env["KAFKA_BOOTSTRAP"]["value"].split(",") == site.kafka.bootstrap_servers
    assert f"security.protocol={site.kafka.security_protocol}" in command
    assert f"sasl.mechanism={site.kafka.sasl_mechanism}" in command
    assert f"ssl.truststore.location={site.kafka.ssl_cafile}" in command
    assert env["QUAYWATCH_KAFKA_ADMIN_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == (
        "admin-sasl-password"
    )
