"""Kafka as the site describes it: addresses, topic names, security (streams.kafka connects)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Protocol

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from config.base import Period, Strict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
# A PEM file; config.loading takes a relative path from the config file's folder.
PemFile = Path | None
TLS_FILES = ("ssl_cafile", "ssl_certfile", "ssl_keyfile")


def _pem(holds: str) -> str:
    return f"{holds} (PEM), relative to the config file"


class NamedTopic(Protocol):
    """What the site needs of a topic declaration (`streams.topics.Topic`) to name it."""

    @property
    def name(self) -> str: ...


class Kafka(Strict):
    """Where events go: broker addresses, topic names and client security."""

    bootstrap_servers: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:9092"],
        min_length=1,
        title="Bootstrap servers",
        description="host:port of Kafka brokers",
    )
    topic_prefix: str = Field(
        default="quaywatch.",
        pattern=r"^[A-Za-z0-9._-]*$",
        max_length=100,
        title="Topic prefix",
        description="Put before every topic name",
    )
    partitions: int = Field(
        default=3, ge=1, le=1000, title="Partitions", description="Partitions per topic created"
    )
    replication_factor: int = Field(
        default=1, ge=1, le=10, title="Replication", description="Replicas per topic created"
    )
    retention_hours: Period | None = Field(
        default=None,
        title="Retention",
        description="Hours records are kept in each topic created (retention.ms); empty keeps "
        "the broker's default. Audits replay from the topics, so keep it at least as long as "
        "an investigation may look back",
    )
    security_protocol: SecurityProtocol = Field(
        default="PLAINTEXT", title="Security protocol", description="As kafka-python names it"
    )
    ssl_cafile: PemFile = Field(default=None, title="CA file", description=_pem("CA certificate"))
    ssl_certfile: PemFile = Field(
        default=None, title="Client certificate", description=_pem("Client certificate")
    )
    ssl_keyfile: PemFile = Field(
        default=None, title="Client key", description=_pem("Client private key")
    )
    sasl_mechanism: SaslMechanism | None = Field(
        default=None,
        validate_default=True,
        title="SASL mechanism",
        description="Required by the SASL_PLAINTEXT and SASL_SSL protocols",
    )
    sasl_username: str | None = Field(default=None, title="SASL user", description="SASL user")
    sasl_username_env: str | None = Field(
        default=None,
        title="SASL user variable",
        description="Environment variable that holds the SASL user, over sasl_username: one "
        "site file serves every process, each logging in as its own role's user",
    )
    sasl_password: SecretStr | None = Field(
        default=None, title="SASL password", description="SASL password; prefer sasl_password_env"
    )
    sasl_password_env: str | None = Field(
        default=None,
        title="SASL password variable",
        description="Environment variable that holds the SASL password",
    )

    @field_validator("sasl_mechanism")
    @classmethod
    def _sasl_complete(cls, mechanism: str | None, info: ValidationInfo) -> str | None:
        # Checked on the field (validate_default) so the error is named kafka.sasl_mechanism.
        protocol = info.data.get("security_protocol", "")
        if protocol.startswith("SASL") and not mechanism:
            raise ValueError(
                f"security_protocol {protocol} needs sasl_mechanism: "
                "PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
            )
        return mechanism

    def topic(self, topic: NamedTopic) -> str:
        """The topic's full name on this cluster: the site's prefix, then the topic's name."""
        return f"{self.topic_prefix}{topic.name}"
