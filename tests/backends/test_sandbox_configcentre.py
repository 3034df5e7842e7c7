"""The sandbox's built-in configuration centre (Apollo's edit-then-publish model)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox, SandboxConfigCentre, SandboxSettings
from pyvela._configcentre.protocol import ConfigCentre, ConfigTarget
from pyvela.errors import ConfigCentreError, ConfigNotFoundError

TARGET = ConfigTarget(app_id="base-server", env="DEV", cluster="default", namespace="application")


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Sandbox]:
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=0)) as sb:
        yield sb


@pytest.fixture
def centre(sandbox: Sandbox) -> Iterator[SandboxConfigCentre]:
    centre = sandbox.config_centre()
    yield centre
    centre.close()


def test_it_is_a_config_centre(centre: SandboxConfigCentre) -> None:
    protocol: ConfigCentre = centre
    assert protocol.description == "sandbox config centre"


def test_read_before_the_first_release(centre: SandboxConfigCentre) -> None:
    with pytest.raises(ConfigNotFoundError) as caught:
        centre.read(TARGET)
    assert caught.value.context["target"] == "base-server/DEV/default/application"


def test_register_publishes_and_is_idempotent(centre: SandboxConfigCentre) -> None:
    first = centre.register(TARGET, {"ip": "10.96.0.2", "port": "80"}, release_title="deploy 1")
    assert first.changed and dict(first.items) == {"ip": "10.96.0.2", "port": "80"}
    assert centre.read(TARGET) == {"ip": "10.96.0.2", "port": "80"}
    again = centre.register(TARGET, {"ip": "10.96.0.2"}, release_title="deploy 2")
    assert not again.changed and again.release_key == first.release_key
    changed = centre.register(TARGET, {"ip": "10.96.0.3"}, release_title="deploy 3", comment="moved")
    assert changed.changed and changed.release_key != first.release_key
    assert centre.read(TARGET) == {"ip": "10.96.0.3", "port": "80"}  # a release holds all items


def test_unpublished_edits_are_published_by_the_next_register(
    sandbox: Sandbox, centre: SandboxConfigCentre
) -> None:
    centre.register(TARGET, {"ip": "1"}, release_title="r1")
    # a run killed between writing the item and publishing it
    with sqlite3.connect(sandbox.root / "sandbox.db") as conn:
        conn.execute("UPDATE config_items SET value = '2' WHERE key = 'ip'")
    conn.close()
    assert centre.read(TARGET) == {"ip": "1"}  # readers see only released config
    release = centre.register(TARGET, {"ip": "2"}, release_title="r2")
    assert release.changed and centre.read(TARGET) == {"ip": "2"}


def test_targets_are_separate(centre: SandboxConfigCentre) -> None:
    centre.register(TARGET, {"a": "1"}, release_title="r")
    other = ConfigTarget(app_id="base-server", env="PRO")
    with pytest.raises(ConfigNotFoundError):
        centre.read(other)


def test_items_must_be_strings(centre: SandboxConfigCentre) -> None:
    with pytest.raises(ConfigCentreError, match="string values"):
        centre.register(TARGET, {"port": 80}, release_title="r")  # type: ignore[dict-item]


def test_releases_persist_and_reset_wipes_them(
    tmp_path: Path, sandbox: Sandbox, centre: SandboxConfigCentre
) -> None:
    centre.register(TARGET, {"a": "1"}, release_title="r")
    with Sandbox(tmp_path / "sb", settings=SandboxSettings(ready_delay=0)) as other:
        assert other.config_centre().read(TARGET) == {"a": "1"}
    sandbox.reset()
    with pytest.raises(ConfigNotFoundError):
        centre.read(TARGET)
