"""Where the Prometheus endpoints and the console listen."""

from __future__ import annotations

from pydantic import Field

from config.base import NonEmptyText, Port, Strict


def _prometheus(process: str) -> str:
    return f"Prometheus port of the {process}; 0 turns it off"


class Metrics(Strict):
    """Ports of the Prometheus endpoints and the console."""

    host: NonEmptyText = Field(
        default="127.0.0.1",
        title="Listen address",
        description="Address the /metrics and /healthz endpoints of the worker, correlator and "
        "terminal feed listen on; 0.0.0.0 in a container, so Prometheus and probes reach them",
    )
    worker_port: Port = Field(
        default=9101, title="Worker", description=_prometheus("camera worker")
    )
    correlator_port: Port = Field(
        default=9102, title="Correlator", description=_prometheus("correlator")
    )
    terminal_port: Port = Field(
        default=9103, title="Terminal feed", description=_prometheus("terminal feed adapters")
    )
    console_port: Port = Field(default=8480, title="Console", description="Console HTTP port")
