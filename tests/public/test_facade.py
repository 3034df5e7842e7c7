"""The public façade: one module, a tested __all__, and a fast, lazy import."""

from __future__ import annotations

import subprocess
import sys

import pyvela
from tests.conftest import ROOT

EXPECTED = {
    "check",
    "CheckDefinition",
    "CheckedApp",
    "CheckedObject",
    "Finding",
    "Severity",
    "waive_checks",
    "Waiver",
    "WaiveChecksParams",
    "parse_duration",
    "ClusterReads",
    "cluster_reads",
    "TraitObservation",
    "ApplyOnceRule",
    "ApplyOnceStrategy",
    "GarbageCollectRule",
    "PolicyRule",
    "ResourceUpdateRule",
    "ResourceUpdateStrategy",
    "RuleSelector",
    "apply_once",
    "resource_update",
    "Action",
    "AppliedComponent",
    "Application",
    "ApplyComponent",
    "ApplyObject",
    "ApplyObjectTo",
    "Catalogue",
    "ComponentContext",
    "ComponentDefinition",
    "ComponentName",
    "ComponentPatch",
    "ComponentUse",
    "DeleteObject",
    "DeployComponents",
    "Fail",
    "HELM_API_VERSION",
    "HELM_KIND",
    "HttpRequest",
    "HttpResponse",
    "ListObjects",
    "LoadedApp",
    "Log",
    "Obj",
    "ObjectRef",
    "PolicyDefinition",
    "PolicyUse",
    "ReadConfig",
    "ReadObject",
    "ReadObjectFrom",
    "Readiness",
    "Ref",
    "RegisterConfig",
    "Rendered",
    "Secret",
    "SendMail",
    "StepContext",
    "StepDefinition",
    "StepGroup",
    "StepUse",
    "Suspend",
    "TraitContext",
    "TraitDefinition",
    "TraitPatch",
    "TraitResult",
    "TraitUse",
    "WaitReady",
    "Workflow",
    "WorkflowView",
    "WorkloadType",
    "__version__",
    "apply_component",
    "component",
    "env_patch",
    "errors",
    "find_container",
    "garbage_collect",
    "kubevela_step",
    "load_app",
    "merge",
    "policy",
    "override",
    "read_only",
    "replication",
    "set_env",
    "set_image",
    "shared_resource",
    "step",
    "take_over",
    "topology",
    "trait",
    "yaml_template",
}


def test_all_is_exactly_the_public_api() -> None:
    assert set(pyvela.__all__) == EXPECTED


def test_every_public_name_resolves() -> None:
    for name in pyvela.__all__:
        assert getattr(pyvela, name) is not None, name


def test_unknown_attribute_is_an_attribute_error() -> None:
    try:
        pyvela.nothing_here  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "nothing_here" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def _imported_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return set(out.stdout.split())


def test_help_and_render_do_not_import_the_kubernetes_client() -> None:
    help_mods = _imported_after(
        "import contextlib, io\nfrom pyvela._cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit): main(['--help'])"
    )
    assert "kubernetes" not in help_mods
    assert "rich" not in help_mods and "typeguard" not in help_mods
    assert "attrs" not in help_mods and "attr" not in help_mods
    render_mods = _imported_after(
        "import contextlib, io\nfrom pyvela._cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()): main(['render', 'apps/lixiang.py'])"
    )
    assert "kubernetes" not in render_mods
