"""The app's spec and revision are computed when first read, and are what they were eagerly.

Hashing a large app's spec costs a seventh of rendering it, and ``render`` needs the revision
only for a definition that reads ``ctx.app_revision``.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import attrs
import pytest

from pyvela._app import loader
from pyvela._app.application import app_spec, revision_hash
from pyvela._cli.main import main
from pyvela._core.definitions import ComponentContext

APP = """
from pyvela import Application
from pyvela.stdlib import Port, gateway, webservice
app = Application("shop", components=[
    webservice("web", image="nginx:1.27", ports=(Port(port=80),), add_revision_label={label}).with_traits(
        gateway(domain="web.example.com", http={{"/": 80}})),
    webservice("api", image="api:1"),
])
"""


def _write(tmp_path: Path, *, label: bool) -> Path:
    path = tmp_path / "shop.py"
    path.write_text(APP.format(label=label))
    return path


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = app_spec

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(loader, "app_spec", counted)
    return calls


def _render(path: Path) -> str:
    with contextlib.redirect_stdout(io.StringIO()) as out:
        assert main(["render", str(path)]) == 0
    return out.getvalue()


def test_render_does_not_hash_the_app_when_no_definition_reads_the_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _counting(monkeypatch)
    assert "kind: Ingress" in _render(_write(tmp_path, label=False))
    assert calls == []


def test_a_definition_that_reads_the_revision_gets_the_eager_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, label=True)
    loaded = loader.load_app(path)
    eager = revision_hash(app_spec(loaded.app, loaded.plan), loaded.catalogue)
    calls = _counting(monkeypatch)
    out = _render(path)
    assert calls == [1]  # once for the whole app, not once per component
    assert f"app.oam.dev/revision: shop-{eager[:10]}" in out
    assert loaded.revision == eager and loaded.spec == app_spec(loaded.app, loaded.plan)


def test_a_copy_keeps_the_revision_of_the_app_as_loaded(tmp_path: Path) -> None:
    loaded = loader.load_app(_write(tmp_path, label=False))
    eager = revision_hash(app_spec(loaded.app, loaded.plan), loaded.catalogue)
    # Copies made before anything read the revision (a deploy to another namespace, a
    # cluster's share of the components) still carry the loaded app's.
    other = attrs.evolve(loaded, app=attrs.evolve(loaded.app, namespace="elsewhere", components=()))
    assert other.revision == eager and other.spec["namespace"] == "default"
    assert loaded.revision == eager


def test_given_spec_and_revision_are_kept() -> None:
    loaded = loader.load_application(_app())
    given = loader.LoadedApp(
        path=loaded.path,
        app=loaded.app,
        catalogue=loaded.catalogue,
        plan=loaded.plan,
        spec={"a": 1},
        revision="r1",
    )
    assert given.spec == {"a": 1} and given.revision == "r1"


def test_a_context_given_a_function_reads_and_compares_as_the_text() -> None:
    calls: list[int] = []

    def revision() -> str:
        calls.append(1)
        return "shop-0123456789"

    lazy = ComponentContext(name="web", namespace="default", app_name="shop", app_revision=revision)
    eager = ComponentContext(name="web", namespace="default", app_name="shop", app_revision="shop-0123456789")
    assert calls == []
    assert lazy.app_revision == "shop-0123456789" and lazy.app_revision == eager.app_revision
    assert calls == [1]
    assert lazy == eager and repr(lazy) == repr(eager)


def _app() -> Any:
    from pyvela import Application
    from pyvela.stdlib import webservice

    return Application("shop", components=[webservice("web", image="nginx:1.27")])
