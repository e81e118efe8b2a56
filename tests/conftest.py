"""Shared fixtures: each group of them lives in its own module under tests/fixtures."""

pytest_plugins = [
    "tests.fixtures.resources",
    "tests.fixtures.signing",
    "tests.fixtures.broker",
    "tests.fixtures.audit",
]
