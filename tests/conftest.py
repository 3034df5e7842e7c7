"""Shared fixtures: a private sandbox per test, and helpers to write app files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from apollo_server import ApolloServer, RecordedSleeps, apollo_server_fixture, apollo_settings

from pyvela._configcentre.apollo import ApolloConfigCentre

ROOT = Path(__file__).resolve().parent.parent

# The real control plane (`kube_cluster`, session scope) for tests/e2e and tests/contract, and
# a second cluster beside it (`kube_clusters`, `two_clusters`) for multi-cluster tests.
pytest_plugins = ["kube_cluster", "kube_members"]


@pytest.fixture
def write_app(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write an app module (dedented) into tmp_path and return its path."""

    def write(source: str, name: str = "app.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source).lstrip())
        return path

    return write


@pytest.fixture
def sandbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh sandbox directory, also the default for the CLI in this test."""
    root = tmp_path / "sandbox"
    monkeypatch.setenv("PYVELA_SANDBOX", str(root))
    monkeypatch.delenv("PYVELA_APOLLO_PORTAL_URL", raising=False)
    return root


@pytest.fixture
def apollo_server() -> Iterator[ApolloServer]:
    """A loopback Apollo (portal + config service) with the app ``base-server``."""
    yield from apollo_server_fixture()


@pytest.fixture
def sleeps() -> RecordedSleeps:
    """Records backoff delays instead of sleeping."""
    return RecordedSleeps()


@pytest.fixture
def centre(apollo_server: ApolloServer, sleeps: RecordedSleeps) -> Iterator[ApolloConfigCentre]:
    """An ApolloConfigCentre pointed at ``apollo_server``."""
    with ApolloConfigCentre(apollo_settings(apollo_server), sleep=sleeps) as opened:
        yield opened
