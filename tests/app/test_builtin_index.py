"""The built-in definitions' index, and the catalogue that reads the policies through it."""

from __future__ import annotations

import subprocess
import sys

from pyvela._app.catalogue import Catalogue, kind_of
from pyvela._core import builtin
from tests.conftest import ROOT

POLICY_MODULES = {
    "pyvela._core.policies_builtin",
    "pyvela._core.policies_cluster",
    "pyvela._core.waivers",
    "pyvela._core.selectors",
}


def test_the_index_names_every_builtin_where_it_is_defined() -> None:
    # A built-in added to a policy module but not to INDEX would be missing from every catalogue.
    expected = {(kind_of(d), d.name): d for d in builtin.BUILTINS}
    assert list(builtin.INDEX) == list(expected)
    for key, (module, attribute) in builtin.INDEX.items():
        definition = getattr(sys.modules[module], attribute)
        assert definition is expected[key]
        assert definition.where.file == sys.modules[module].__file__  # its own module, not a re-export


def test_every_catalogue_holds_the_builtins() -> None:
    catalogue = Catalogue.from_modules([])
    for definition in builtin.BUILTINS:
        assert catalogue.get(kind_of(definition), definition.name) is definition
        catalogue.require(definition)
    assert set(catalogue.names("policy")) == {k[1] for k in builtin.INDEX if k[0] == "policy"}


def test_the_module_still_exports_each_builtin_by_name() -> None:
    from pyvela._core.policies_builtin import take_over
    from pyvela._core.waivers import waive_checks

    assert builtin.take_over is take_over and builtin.waive_checks is waive_checks
    assert len(builtin.BUILTINS) == len(builtin.INDEX)


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return set(out.split())


def test_a_policy_module_is_imported_when_one_of_its_policies_is_read() -> None:
    code = "from pyvela._app.catalogue import Catalogue\nc = Catalogue.from_modules([])\n"
    assert not _imported_after(code + "assert 'topology' in c.names('policy')") & POLICY_MODULES
    loaded = _imported_after(code + "assert c.get('policy', 'topology') is not None")
    assert "pyvela._core.policies_cluster" in loaded
    assert "pyvela._core.policies_builtin" not in loaded
