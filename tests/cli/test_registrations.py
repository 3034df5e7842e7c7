"""Config-centre registrations follow the app: `delete` unpublishes them unless a policy keeps them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from apollo_server import ApolloServer

from pyvela._cli.main import main
from pyvela._configcentre.apollo import ApolloConfigCentre
from pyvela._configcentre.protocol import ConfigTarget
from tests.conftest import ROOT


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def registered(capsys: pytest.CaptureFixture[str], app: str) -> dict[str, str]:
    code, out, err = run(capsys, "config", "get", app, "-o", "json")
    assert code == 0, err
    items: dict[str, str] = json.loads(out)["items"]
    return items


def test_delete_unpublishes_what_the_app_registered(
    capsys: pytest.CaptureFixture[str], sandbox_dir: Path
) -> None:
    assert run(capsys, "deploy", "apps/lixiang.py")[0] == 0
    assert registered(capsys, "apps/lixiang.py")["base-service.service"] == "base-service"
    code, out, err = run(capsys, "delete", "apps/lixiang.py")
    assert code == 0, err
    assert "removed 7 registered item(s) from lixiang-app/DEV/default/application" in out
    assert registered(capsys, "apps/lixiang.py") == {}
    # deleting again finds nothing to delete and changes nothing
    assert run(capsys, "delete", "apps/lixiang.py")[0] == 0
    assert registered(capsys, "apps/lixiang.py") == {}


def test_a_policy_keeps_the_registrations(
    capsys: pytest.CaptureFixture[str], sandbox_dir: Path, tmp_path: Path
) -> None:
    source = (ROOT / "apps/lixiang.py").read_text()
    source = source.replace(
        "from pyvela import Application", "from pyvela import Application, garbage_collect"
    )
    source = source.replace(
        "    workflow=[", '    policies=[garbage_collect("gc", keep_registrations=True)],\n    workflow=['
    )
    kept = tmp_path / "kept.py"
    kept.write_text(source)
    assert run(capsys, "deploy", str(kept))[0] == 0
    before = registered(capsys, str(kept))
    code, out, err = run(capsys, "delete", str(kept))
    assert code == 0, err
    assert "registered item" not in out
    assert registered(capsys, str(kept)) == before


def test_apollo_unregister_deletes_publishes_and_is_idempotent(
    centre: ApolloConfigCentre, apollo_server: ApolloServer
) -> None:
    target = ConfigTarget(app_id="base-server")
    centre.register(target, {"a.ip": "1", "a.port": "2", "other": "3"}, release_title="first")
    gone = centre.unregister(target, ["a.ip", "a.port"], release_title="deleted")
    assert gone.changed is True and dict(gone.items) == {"other": "3"}
    assert dict(centre.read(target)) == {"other": "3"}
    releases = len(apollo_server.releases("base-server"))
    again = centre.unregister(target, ["a.ip", "a.port"], release_title="deleted again")
    assert again.changed is False and len(apollo_server.releases("base-server")) == releases
