"""A real `quaywatch console` process for the console attack tests: its site (with a console
section of the test's choosing), its users, clients that behave as the page does or as an
attacker does, and how big the process is."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml
from argon2 import PasswordHasher
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config.kafka import Kafka
from quaywatch.console.guard import CSRF_COOKIE, CSRF_HEADER
from quaywatch.console.users import Role, UserStore, users_path
from tests.integration.quaywatch_processes import LOOPBACK, Process, start, wait_for, write_site

PASSWORD = "long enough password"


@dataclass
class Console:
    process: Process
    site_path: Path
    data_dir: Path
    url: str
    tls: ssl.SSLContext | None = None  # trusts the test's own certificate

    def client(self, address: str = LOOPBACK, **settings: object) -> httpx.Client:
        """A client from `address` (any of 127.0.0.0/8), naming the console as its Origin."""
        return httpx.Client(
            base_url=self.url,
            timeout=15,
            headers={"Origin": self.url},
            transport=httpx.HTTPTransport(local_address=address, verify=self.tls or True),
            **settings,  # type: ignore[arg-type]
        )

    def log_in(self, name: str, password: str = PASSWORD, address: str = LOOPBACK) -> httpx.Client:
        """A client logged in as `name`, sending the CSRF token back as the page's script does."""
        client = self.client(address)
        response = client.post("/login", data={"name": name, "password": password})
        assert response.status_code == 303 and response.headers["location"] == "/", (
            f"login of {name}: {response.status_code} {response.headers.get('location')}"
        )
        client.headers[CSRF_HEADER] = client.cookies[CSRF_COOKIE]
        return client

    def rss_bytes(self) -> int:
        """Resident memory of the console process, from /proc/PID/status."""
        status = Path(f"/proc/{self.process.popen.pid}/status").read_text()
        [line] = [line for line in status.splitlines() if line.startswith("VmRSS:")]
        return int(line.split()[1]) * 1024

    def log(self) -> str:
        return self.process.log.read_text(errors="replace")

    def answers(self) -> bool:
        try:
            with self.client() as client:
                return client.get("/healthz", timeout=2).status_code in (200, 503)
        except httpx.HTTPError:
            return False


def console_site(directory: Path, kafka: Kafka, console: dict[str, object]) -> Path:
    """A loopback site whose console section is `console`; users get cheap argon2 hashes."""
    site_path = write_site(directory, kafka)
    site = yaml.safe_load(site_path.read_text())
    site["console"] = console
    site_path.write_text(yaml.safe_dump(site))
    return site_path


def add_users(data_dir: Path, users: dict[str, Role]) -> None:
    store = UserStore(users_path(data_dir), PasswordHasher(time_cost=1, memory_cost=1024))
    for name, role in users.items():
        store.add(name, role, PASSWORD)


def start_console(
    directory: Path, site_path: Path, name: str = "console", tls: ssl.SSLContext | None = None
) -> Console:
    site = yaml.safe_load(site_path.read_text())
    port = site["metrics"]["console_port"]
    scheme = "https" if tls else "http"
    process = start(name, ["console", "--config", str(site_path)], port, directory)
    console = Console(
        process, site_path, Path(site["data_dir"]), f"{scheme}://{LOOPBACK}:{port}", tls
    )
    wait_for("the console to answer", console.answers, 60, process)
    return console


def self_signed_certificate(directory: Path) -> tuple[Path, Path, ssl.SSLContext]:
    """A certificate for 127.0.0.1 and its key, as PEM files, and a client context trusting it."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, LOOPBACK)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(LOOPBACK))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_path, key_path = directory / "console.crt", directory / "console.key"
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return certificate_path, key_path, ssl.create_default_context(cafile=certificate_path)
