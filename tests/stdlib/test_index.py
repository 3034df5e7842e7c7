"""The standard library's index, and the lazy package and catalogue that read it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyvela.stdlib as s
from pyvela import ComponentDefinition
from pyvela._app.catalogue import Catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_the_index_is_current() -> None:
    # A definition or public name added without re-running scripts/stdlib-index would be
    # missing from the catalogue or from `from pyvela.stdlib import ...`.
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "stdlib-index"), "--check"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_catalogue_holds_what_the_package_defines() -> None:
    catalogue = Catalogue.from_modules([], stdlib=True)
    for name in s.__all__:
        value = getattr(s, name)
        if isinstance(value, ComponentDefinition):
            assert catalogue.get("component", value.name) is value


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return {m for m in out.split() if m.startswith("pyvela.stdlib.")}


def test_names_are_imported_from_their_module_on_first_use() -> None:
    loaded = _imported_after("from pyvela.stdlib import webservice")
    assert "pyvela.stdlib.workloads" in loaded
    assert not loaded & {"pyvela.stdlib.helmchart", "pyvela.stdlib.steps_notify", "pyvela.stdlib.traits_dev"}


def test_a_catalogue_imports_only_the_definitions_it_is_asked_for() -> None:
    loaded = _imported_after(
        "from pyvela._app.catalogue import Catalogue\n"
        "c = Catalogue.from_modules([], stdlib=True)\n"
        "assert c.get('trait', 'scaler') is not None and 'webservice' in c.names('component')"
    )
    assert "pyvela.stdlib.traits_meta" in loaded
    assert "pyvela.stdlib.workloads" not in loaded


def test_a_definition_named_like_its_module_stays_the_definition() -> None:
    # Importing pyvela.stdlib.helm sets the package attribute `helm` to the module.
    code = "import pyvela.stdlib.helm, pyvela.stdlib.helmchart\nfrom pyvela.stdlib import helm, helmchart\n"
    code += "print(type(helm).__name__, type(helmchart).__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["ComponentDefinition", "ComponentDefinition"]


def test_unknown_names_are_attribute_errors() -> None:
    try:
        s.no_such_definition  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_definition" in str(exc)
    else:
        raise AssertionError("no AttributeError")
    assert "webservice" in dir(s)
