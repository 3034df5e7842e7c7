"""An object a component renders twice (a webservice's exposed port and a gateway's Service):
the deploy leaves the last, so ``diff`` after the deploy compares that one only: unchanged."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

WriteApp = Callable[..., Path]

APP = """
from pyvela import Application
from pyvela.stdlib import Port, gateway, webservice

web = webservice("web", image="nginx:1.27", ports=(Port(port=80, expose=True),)).with_traits(
    gateway(domain="shop.example.com", http={"/": 80})
)
app = Application("twice", components=[web])
"""


def test_diff_after_deploy_is_unchanged_for_an_object_rendered_twice(
    capsys: pytest.CaptureFixture[str],
    write_app: WriteApp,
    sandbox_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYVELA_SANDBOX_DELAY", "0")
    path = write_app(APP, "twice.py")
    assert main(["deploy", str(path)]) == 0
    capsys.readouterr()
    code = main(["diff", str(path), "-o", "json"])
    items = json.loads(capsys.readouterr().out)
    services = [i for i in items if i["object"] == "Service default/web"]
    assert len(services) == 1 and services[0]["change"] == "unchanged", services
    assert code == 0, items
