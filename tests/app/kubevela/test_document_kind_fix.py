"""A document pyvela does not run from YAML: the fix fits what it is (no kind, a CUE
definition, a plain Kubernetes object), and ``got`` never says ``None``."""

from __future__ import annotations

import pytest

from pyvela import load_app
from pyvela.errors import AppLoadError
from tests.app.kubevela.conftest import WriteYaml


@pytest.mark.parametrize(
    ("head", "got", "fix"),
    [
        (
            "apiVersion: core.oam.dev/v1beta1",
            "no kind (apiVersion core.oam.dev/v1beta1)",
            "add `kind: Application`",
        ),
        ("metadata: {name: x}", "no kind", "add `kind: Application`"),
        ("apiVersion: apps/v1\nkind: Deployment", "apps/v1 Deployment", "k8s-objects component"),
        (
            "apiVersion: core.oam.dev/v1beta1\nkind: TraitDefinition",
            "core.oam.dev/v1beta1 TraitDefinition",
            "--defs",
        ),
    ],
)
def test_the_fix_fits_the_document(write_yaml: WriteYaml, head: str, got: str, fix: str) -> None:
    with pytest.raises(AppLoadError) as info:
        load_app(write_yaml(head + "\nspec: {}\n"))
    err = info.value
    assert "which pyvela does not run from YAML" in err.message
    assert err.got == got and err.fix is not None and fix in err.fix
