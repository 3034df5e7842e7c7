"""The CRD and the install manifests: their shape is a golden file, and the RBAC grants
only what the controller does (the catalogue's kinds, pyvela's state, its own resource)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from pyvela._app.catalogue import Catalogue
from pyvela._app.loader import load_app
from pyvela._app.output import to_yaml
from pyvela._controller.crd import CRD_NAME, FINALIZER, PRINTER_COLUMNS, crd
from pyvela._controller.manifests import (
    DEFAULT_KINDS,
    catalogue_kinds,
    cluster_role,
    manifests,
    owned_kinds,
    plural,
)
from tests.conftest import ROOT

GOLDEN = Path(__file__).parent / "golden" / "manifests.yaml"
KINDS = [*DEFAULT_KINDS, ("argoproj.io/v1alpha1", "Rollout"), ("networking.k8s.io/v1", "NetworkPolicy")]


def test_manifests_match_the_golden_file() -> None:
    text = to_yaml(manifests(kinds=sorted(KINDS)))
    if os.environ.get("PYVELA_UPDATE_GOLDEN") == "1":  # pragma: no cover - by hand, then review
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text(), "manifests changed: PYVELA_UPDATE_GOLDEN=1 pytest this file, review"


def test_crd_has_the_columns_status_subresource_and_both_spec_forms() -> None:
    doc = crd()
    assert doc["metadata"]["name"] == CRD_NAME == "applications.pyvela.dev"
    (version,) = doc["spec"]["versions"]
    assert version["subresources"] == {"status": {}}
    names = [c["name"] for c in version["additionalPrinterColumns"]]
    assert names == ["Phase", "Revision", "Ready", "Age"] == [c["name"] for c in PRINTER_COLUMNS]
    spec = version["schema"]["openAPIV3Schema"]["properties"]["spec"]
    assert {"module", "components", "policies", "workflow"} <= set(spec["properties"])
    assert "has(self.module) != has(self.components)" in spec["x-kubernetes-validations"][0]["rule"]
    status = version["schema"]["openAPIV3Schema"]["properties"]["status"]["properties"]
    assert {"phase", "revision", "ready", "message", "steps", "objects"} <= set(status)
    assert FINALIZER == "pyvela.dev/finalizer"


def _rules(kinds: list[tuple[str, str]]) -> dict[tuple[str, str], set[str]]:
    out: dict[tuple[str, str], set[str]] = {}
    for rule in cluster_role(kinds)["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.setdefault((group, resource), set()).update(rule["verbs"])
    return out


def test_rbac_is_least_privilege() -> None:
    rules = _rules(sorted(KINDS))
    for rule in cluster_role(sorted(KINDS))["rules"]:
        assert "*" not in rule["verbs"] and "*" not in rule["resources"] and "*" not in rule["apiGroups"]
    # The catalogue's kinds may be written; nothing else but pyvela's state and its resource.
    assert rules[("argoproj.io", "rollouts")] >= {"create", "patch", "delete", "watch"}
    assert rules[("networking.k8s.io", "networkpolicies")] >= {"create", "delete"}
    assert ("apps", "statefulsets") not in rules
    assert ("rbac.authorization.k8s.io", "clusterroles") not in rules
    assert rules[("coordination.k8s.io", "leases")] >= {"get", "create", "update", "delete"}
    assert rules[("", "events")] >= {"create"} and "delete" not in rules[("", "events")]
    assert rules[("", "namespaces")] == {"get", "list", "watch", "create"}
    assert rules[("pyvela.dev", "applications/status")] == {"get", "patch", "update"}
    assert rules[("pyvela.dev", "applications/finalizers")] == {"update"}
    assert "delete" not in rules[("pyvela.dev", "applications")]


def test_kinds_come_from_the_catalogue_and_the_apps() -> None:
    catalogue = Catalogue.from_modules(["platform_defs"])
    kinds = catalogue_kinds(catalogue)
    assert ("argoproj.io/v1alpha1", "Rollout") in kinds and ("apps/v1", "Deployment") in kinds
    assert not any("HelmRelease" in k for _a, k in kinds)  # helm's objects are the chart's
    seed = load_app(ROOT / "apps" / "lixiang.py")
    assert ("networking.k8s.io/v1", "Ingress") in owned_kinds(None, [seed])
    assert ("v1", "Secret") in owned_kinds(None, (), [("v1", "Secret")])


def test_plurals() -> None:
    assert plural("apps/v1", "Deployment") == "deployments"
    assert plural("networking.k8s.io/v1", "Ingress") == "ingresses"
    assert plural("example.com/v1", "Policy") == "policies"
    assert plural("example.com/v1", "Gateway") == "gateways"


def test_the_command_prints_them() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pyvela", "controller", "manifests", "--app", "apps/lixiang.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    docs = [d for d in yaml.safe_load_all(done.stdout) if d]
    assert [d["kind"] for d in docs] == [
        "CustomResourceDefinition",
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Deployment",
    ]
    deployment = docs[-1]["spec"]["template"]["spec"]
    assert deployment["serviceAccountName"] == docs[2]["metadata"]["name"]
    assert deployment["containers"][0]["args"][:2] == ["controller", "--in-cluster"]


def test_help_and_render_do_not_import_the_controller() -> None:
    code = (
        "import contextlib, io, sys\nfrom pyvela._cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
        "    main(['controller', '--help']) if False else None\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert not {m for m in loaded if m.split(".")[0] in ("kopf", "prometheus_client", "aiohttp")}
    assert not {m for m in loaded if m.startswith("pyvela._controller")}


def test_bad_arguments_are_one_message_not_a_traceback() -> None:
    for argv, expected in (
        (["controller"], "needs a real cluster"),
        (["controller", "--bind", "foo", "--kubeconfig", "k"], "must be HOST:PORT"),
        (["controller", "--resync", "0s", "--kubeconfig", "k"], "must be more than 0"),
        (["controller", "manifests", "--kind", "Deployment"], "is not APIVERSION/KIND"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "pyvela", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode != 0 and expected in done.stderr, (argv, done.stderr)
        assert "Traceback" not in done.stderr
