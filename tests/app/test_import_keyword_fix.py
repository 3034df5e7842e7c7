"""An app whose import fails on a parameter class's keywords (KubeVela's camelCase in Python,
``Port(containerPort=80)``, a typo, a required field left out) or on a use without its name:
the message's fix names the keyword meant, not only "fix what raised there"."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import AppLoadError

HEAD = "from pyvela import Application\nfrom pyvela.stdlib import Port, webservice\n"


@pytest.mark.parametrize(
    ("use", "fix"),
    [
        (
            'webservice("web", image="x", ports=(Port(containerPort=80),))',
            "did you mean 'container_port'? (parameters are snake_case; Port takes port, container_port,",
        ),
        ('webservice("web", image="x", ports=(Port(port=80, protocl="TCP"),))', "did you mean 'protocol'?"),
        ('webservice("web", image="x", ports=(Port(),))', "add port=... to Port(...)"),
        ('webservice(image="x")', 'give the component or step its name first, e.g. webservice("web"'),
    ],
)
def test_the_fix_names_the_keyword(tmp_path: Path, use: str, fix: str) -> None:
    path = tmp_path / "app.py"
    path.write_text(HEAD + f"web = {use}\n" + 'app = Application("a", components=[web])\n', encoding="utf-8")
    with pytest.raises(AppLoadError) as info:
        load_app(path)
    err = info.value
    assert err.fix is not None and err.fix.startswith(fix), err.fix
    assert err.where is not None and err.where.line == 3


def test_another_type_error_keeps_the_generic_fix(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text(HEAD + "x = len(5)\n", encoding="utf-8")
    with pytest.raises(AppLoadError) as info:
        load_app(path)
    assert info.value.fix is not None and "fix what raised there" in info.value.fix
