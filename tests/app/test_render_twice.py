"""An object a component renders twice is reported: the second apply would replace the first."""

from __future__ import annotations

from pathlib import Path


def test_an_object_rendered_twice_is_warned_about(tmp_path: Path) -> None:
    from pyvela._app.loader import load_app
    from pyvela._app.render import render_component

    app = tmp_path / "twice.py"
    app.write_text(
        "from pyvela import Application\n"
        "from pyvela.stdlib import Port, gateway, webservice\n"
        'web = webservice("web", image="nginx:1.27", ports=(Port(port=80, expose=True),)).with_traits(\n'
        '    gateway(domain="web.example.com", http={"/": 80}))\n'
        'app = Application("shop", components=[web])\n'
    )
    loaded = load_app(app)
    [warning] = [w for w in render_component(loaded.app, loaded.app.components[0]).warnings if "twice" in w]
    assert "Service 'web' is rendered twice" in warning and "trait 'gateway'" in warning
