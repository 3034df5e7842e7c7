"""A definition put in an app without calling it (``components=[webservice]``,
``.with_traits(scaler)``): the message names it in one short line, not its repr (which holds
the whole docstring)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import AppError

HEAD = """
from pyvela import Application, topology
from pyvela.stdlib import scaler, webservice
"""


@pytest.mark.parametrize(
    ("line", "got"),
    [
        (
            'app = Application("a", components=[webservice])',
            "the ComponentDefinition 'webservice' itself, not called",
        ),
        (
            'app = Application("a", components=[webservice("web", image="x:1").with_traits(scaler)])',
            "the TraitDefinition 'scaler' itself, not called",
        ),
        (
            'app = Application("a", components=[webservice("web", image="x:1")], policies=[topology])',
            "the PolicyDefinition 'topology' itself, not called",
        ),
        ('app = Application("a", components=["db"])', "'db' (str)"),
    ],
)
def test_an_uncalled_definition_is_named_briefly(tmp_path: Path, line: str, got: str) -> None:
    path = tmp_path / "app.py"
    path.write_text(HEAD + line + "\n", encoding="utf-8")
    with pytest.raises(AppError) as info:
        load_app(path)
    assert info.value.got == got
    assert info.value.fix is not None and info.value.where is not None
