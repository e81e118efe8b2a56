"""The callback endpoint judges bodies side by side and publishes each subscription's batches
in the order they arrived: a body slow to judge holds up its own sender's later batches, never
another sender's. Real HTTP to the app under uvicorn on 127.0.0.1; judging and publishing are
the test's own, so that it controls when each batch is judged."""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest

from config.terminal import CallbackSubscription, DcsaCallback
from streams.terminal.callback import CallbackServer, callback_app
from streams.terminal.events import FeedItem, Rejected
from streams.terminal.metrics import TerminalMetrics
from streams.terminal.publish import Published
from streams.terminal.signature import (
    SIGNATURE_HEADER,
    SUBSCRIPTION_HEADER,
    SubscriptionKeys,
    new_secret,
    sign,
)

LIMITS = DcsaCallback(read_timeout_seconds=30)


@dataclass
class Feed:
    """Judges a body `slow...` only once `release` is set; records what was published."""

    release: threading.Event
    published: list[str]
    judged: list[str]

    def read(self, text: str) -> list[FeedItem]:
        self.judged.append(text)
        if text.startswith("slow") and not self.release.wait(30):
            raise AssertionError("never released")
        return [Rejected(reason="test batch", raw=text)]

    def publish(self, items: list[FeedItem]) -> Published:
        self.published += [item.raw for item in items if isinstance(item, Rejected)]
        return Published(container_events=0, rejected=len(items))


@dataclass
class Running:
    feed: Feed
    port: int
    secrets: dict[UUID, str]

    def post(self, subscription: UUID, body: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {
            SUBSCRIPTION_HEADER: str(subscription),
            SIGNATURE_HEADER: sign(body.encode(), self.secrets[subscription]),
        }
        try:
            connection.request("POST", LIMITS.path, body=body.encode(), headers=headers)
            return connection.getresponse().status
        finally:
            connection.close()


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def running() -> Iterator[Running]:
    secrets = {uuid4(): new_secret(), uuid4(): new_secret()}
    environ = {f"SECRET_{i}": secret for i, secret in enumerate(secrets.values())}
    subscriptions = [
        CallbackSubscription(id=subscription, secret_env=f"SECRET_{i}")
        for i, subscription in enumerate(secrets)
    ]
    feed = Feed(threading.Event(), [], [])
    keys = SubscriptionKeys.from_subscriptions(subscriptions, environ)
    app = callback_app(keys, feed.read, feed.publish, TerminalMetrics(), LIMITS)
    server = CallbackServer(app, "127.0.0.1", 0, LIMITS, on_slow=lambda: None)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    until(lambda: server.started or not thread.is_alive())
    try:
        yield Running(feed, server.port, secrets)
    finally:
        feed.release.set()
        server.stop()
        thread.join(10)


def test_a_body_slow_to_judge_does_not_hold_up_another_subscription(running: Running) -> None:
    first, second = running.secrets
    with ThreadPoolExecutor(2) as pool:
        slow: Future[int] = pool.submit(running.post, first, "slow batch of the first")
        assert running.post(second, "batch of the second") == 200
        assert running.feed.published == ["batch of the second"]
        assert not slow.done()
        running.feed.release.set()
        assert slow.result(30) == 200
    assert running.feed.published == ["batch of the second", "slow batch of the first"]


def test_one_subscriptions_batches_are_published_in_the_order_they_arrived(
    running: Running,
) -> None:
    first, _ = running.secrets
    with ThreadPoolExecutor(2) as pool:
        earlier = pool.submit(running.post, first, "slow, arrived first")
        until(lambda: running.feed.judged == ["slow, arrived first"])
        later = pool.submit(running.post, first, "fast, arrived second")
        until(lambda: len(running.feed.judged) == 2)
        # Judged at once, the later batch waits for the earlier one's turn to publish.
        with pytest.raises(TimeoutError):
            later.result(1)
        assert running.feed.published == []
        running.feed.release.set()
        assert earlier.result(30) == 200 and later.result(30) == 200
    assert running.feed.published == ["slow, arrived first", "fast, arrived second"]
