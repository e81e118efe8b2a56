"""The whole system on one machine: broker, camera worker, terminal feed, correlator, console.

Each part runs as its own `quaywatch` process, exactly as in production, so the demo shows
the real wiring; this module only starts them in order, watches them and stops them. The
terminal scenario reaches the `terminal` topic as a terminal's would: a DCSA callback to the
endpoint, signed with a subscription secret the demo makes at every start.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from config.signing import WriterRole
from config.site import SiteConfig
from quaywatch.console.users import Role, UserStore, users_path
from streams.broker.embedded import EmbeddedBroker, die_with_parent
from streams.signing import ensure_key, role_key_env
from streams.terminal.signature import SIGNATURE_HEADER, SUBSCRIPTION_HEADER, new_secret, sign
from streams.topics import create_topics

log = logging.getLogger(__name__)

DEMO_USER = "operator"
STOP_TIMEOUT_S = 15.0
FEED_START_TIMEOUT_S = 60.0
LOOPBACK = "127.0.0.1"
SCENARIO = Path(__file__).resolve().parents[1] / "config" / "sites" / "demo-terminal.jsonl"


@dataclass
class Part:
    name: str
    process: subprocess.Popen[bytes]


def _quaywatch(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "quaywatch", *arguments]


def _broker_port(site: SiteConfig) -> int:
    host, _, port = site.kafka.bootstrap_servers[0].rpartition(":")
    if host not in ("127.0.0.1", "localhost"):
        raise SystemExit(
            f"the demo starts its own broker on 127.0.0.1; kafka.bootstrap_servers is {host}:{port}"
        )
    return int(port)


def ensure_demo_login(site: SiteConfig) -> str:
    """A fresh password for the demo operator, printed at start (the store keeps only a hash)."""
    store = UserStore(users_path(site.data_dir))
    password = secrets.token_urlsafe(9)
    if DEMO_USER in store.users():
        store.remove(DEMO_USER)
    store.add(DEMO_USER, Role.operator, password)
    return password


def ensure_role_keys(site: SiteConfig) -> dict[WriterRole, Path]:
    """A private key for every writer role, beside the public key the site config trusts for
    it (`<name>.pem` next to `<name>.pub`), made where missing; a role the config lists no key
    for cannot take part."""
    keys: dict[WriterRole, Path] = {}
    for trusted in site.signing.keys:
        keys.setdefault(trusted.role, trusted.public_key.with_suffix(".pem"))
    missing = [role.value for role in WriterRole if role not in keys]
    if missing:
        raise SystemExit(f"the demo site trusts no key for {', '.join(missing)} (signing.keys)")
    for path in keys.values():
        ensure_key(path)
    return keys


@dataclass(frozen=True)
class FeedSubscription:
    id: str
    secret: str


def make_feed_secret(site: SiteConfig) -> FeedSubscription:
    """A fresh secret for the site's first subscription kept in a variable, set in this
    process's environment, so that the terminal endpoint the demo starts inherits it."""
    for subscription in site.terminal.callback.subscriptions:
        if subscription.secret_env is not None:
            os.environ[subscription.secret_env] = secret = new_secret()
            return FeedSubscription(str(subscription.id), secret)
    raise SystemExit(
        "the demo signs its terminal scenario itself: terminal.callback.subscriptions needs a "
        "subscription with secret_env"
    )


def callback_url(site: SiteConfig) -> str:
    return f"http://{LOOPBACK}:{site.terminal.callback.port}{site.terminal.callback.path}"


def post_scenario(site: SiteConfig, subscription: FeedSubscription, endpoint: Part) -> str:
    """The scenario as one signed DCSA callback, once the endpoint answers; its answer."""
    body = SCENARIO.read_bytes()
    headers = {
        SUBSCRIPTION_HEADER: subscription.id,
        SIGNATURE_HEADER: sign(body, subscription.secret),
    }
    deadline = time.monotonic() + FEED_START_TIMEOUT_S
    while True:
        request = urllib.request.Request(callback_url(site), body, headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.read().decode()
        except urllib.error.HTTPError as refused:
            raise SystemExit(
                f"the terminal endpoint refused the demo scenario: {refused.code} "
                f"{refused.read().decode(errors='replace')}"
            ) from None
        except OSError:
            if endpoint.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(
                    f"the terminal endpoint did not answer on {callback_url(site)}"
                ) from None
            time.sleep(0.5)


def _with_key(role: WriterRole, keys: dict[WriterRole, Path]) -> dict[str, str]:
    """The environment of a part: the demo's, and the key of the part's role only."""
    role_variables = {role_key_env(each) for each in WriterRole}
    environment = {name: value for name, value in os.environ.items() if name not in role_variables}
    return {**environment, role_key_env(role): str(keys[role])}


def run_demo(
    config_path: Path, site: SiteConfig, keys: dict[WriterRole, Path], memory: bool = False
) -> int:
    """Run every part until Ctrl-C. The broker keeps its log in the site's data_dir/broker
    (the storage `quaywatch broker` and `audit --embedded-broker` open), unless `memory`."""
    config = str(config_path)
    stopping = False

    def request_stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    parts: list[Part] = []
    storage = None if memory else Path(site.data_dir) / "broker"
    broker = EmbeddedBroker(data_dir=storage, port=_broker_port(site), memory=memory)
    kept = "in memory, lost at Ctrl-C" if memory else f"durable in {storage}"
    try:
        broker.start()
        create_topics(site.kafka)
        password = ensure_demo_login(site)
        subscription = make_feed_secret(site)
        for name, role, arguments in (
            ("terminal", WriterRole.terminal, ("terminal", "serve", "--config", config)),
            ("correlator", WriterRole.correlator, ("correlate", "--config", config)),
            ("worker", WriterRole.camera, ("worker", "--config", config)),
            ("console", WriterRole.console, ("console", "--config", config, "--host", LOOPBACK)),
        ):
            # Their own session: Ctrl-C reaches only the demo, which stops the parts once and
            # in order; they go too if the demo itself is killed.
            process = subprocess.Popen(
                _quaywatch(*arguments),
                start_new_session=True,
                preexec_fn=die_with_parent,
                env=_with_key(role, keys),
            )
            parts.append(Part(name, process))
            if name == "terminal":
                answer = post_scenario(site, subscription, parts[-1])
                log.info("terminal scenario played: %s", answer)
        url = f"http://127.0.0.1:{site.metrics.console_port}/"
        print(
            f"\nquaywatch demo is running\n"
            f"  broker       {broker.bootstrap} (embedded, {kept})\n"
            f"  worker       camera {', '.join(c.id for c in site.cameras)} on recorded footage\n"
            f"  terminal     {callback_url(site)} (DCSA callbacks of subscription "
            f"{subscription.id}, signed)\n"
            f"  correlator   site {site.site.id}\n"
            f"  console      {url}\n"
            f"  login        {DEMO_USER} / {password}\n"
            f"  signing keys {keys[WriterRole.camera].parent} (one per role)\n"
            f"  audit        after Ctrl-C: quaywatch audit verify --config {config} "
            "--from -1d --to now --embedded-broker (README: Auditing the demo)\n"
            f"Ctrl-C stops everything.\n",
            flush=True,
        )
        while not stopping:
            for part in parts:
                if part.process.poll() is not None:
                    log.error("%s stopped with exit code %s", part.name, part.process.returncode)
                    return 1
            time.sleep(0.5)
        return 0
    finally:
        # One at a time, last started first: the worker's final events are on the broker
        # before the correlator is asked to stop, and it reads them before it goes.
        for part in reversed(parts):
            if part.process.poll() is None:
                part.process.send_signal(signal.SIGINT)
            try:
                part.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s; killing it", part.name, STOP_TIMEOUT_S)
                part.process.kill()
                part.process.wait()
        broker.stop()
        print("quaywatch demo stopped", flush=True)
