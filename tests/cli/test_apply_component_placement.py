"""The built-in ``apply-component`` step's ``cluster`` and ``namespace`` (KubeVela v1.10.1's):
the component applied on a named sandbox and/or in another namespace, from a Python app and
from KubeVela YAML; deploy, status, diff, a move to another cluster (pruned there) and delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pyvela import load_app
from pyvela._backends.sandbox import Sandbox
from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from pyvela.errors import ParameterError

WriteApp = Callable[..., Path]

PY_APP = """
from pyvela import Application
from pyvela.stdlib import apply_component, webservice

app = Application(
    "shop",
    namespace="shop",
    components=[webservice("web", image="nginx:1"), webservice("db", image="nginx:1"),
                webservice("ui", image="nginx:1")],
    workflow=[
        apply_component("web-east", component="web", cluster="sandbox:east", namespace="team-a"),
        apply_component("db-here", component="db", namespace="data"),
        apply_component("ui-plain", component="ui", cluster="local"),
    ],
)
"""

YAML_APP = """
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata: {name: shop, namespace: shop}
spec:
  components:
    - {name: web, type: webservice, properties: {image: "nginx:1"}}
    - {name: db, type: webservice, properties: {image: "nginx:1"}}
    - {name: ui, type: webservice, properties: {image: "nginx:1"}}
  workflow:
    steps:
      - name: web-east
        type: apply-component
        properties: {component: web, cluster: "sandbox:east", namespace: team-a}
      - {name: db-here, type: apply-component, properties: {component: db, namespace: data}}
      - {name: ui-plain, type: apply-component, properties: {component: ui, cluster: ""}}
"""


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVELA_SANDBOX_DELAY", "0.05")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _deployment(root: Path, cluster: str, namespace: str, name: str) -> dict[str, Any] | None:
    box = Sandbox(root if cluster == "local" else root / "clusters" / cluster.split(":", 1)[1])
    try:
        return box.get(ObjectRef("apps/v1", "Deployment", namespace, name))
    finally:
        box.close()


@pytest.mark.parametrize(("source", "name"), [(PY_APP, "shop.py"), (YAML_APP, "shop.yaml")])
def test_each_component_goes_to_its_steps_cluster_and_namespace(
    capsys: pytest.CaptureFixture[str],
    write_app: WriteApp,
    sandbox_dir: Path,
    tmp_path: Path,
    source: str,
    name: str,
) -> None:
    clusters = tmp_path / "clusters.yaml"
    clusters.write_text("clusters:\n  sandbox:east: {}\n  sandbox:west: {}\n")
    path = write_app(source, name)
    target = ("--clusters", str(clusters))
    code, _out, err = run(capsys, "deploy", str(path), *target)
    assert code == 0, err
    assert _deployment(sandbox_dir, "sandbox:east", "team-a", "web") is not None
    assert _deployment(sandbox_dir, "local", "shop", "web") is None  # not on the app's own cluster
    assert _deployment(sandbox_dir, "local", "data", "db") is not None  # local, another namespace
    assert _deployment(sandbox_dir, "local", "shop", "db") is None
    assert _deployment(sandbox_dir, "local", "shop", "ui") is not None  # as before: the app's cluster
    code, out, err = run(capsys, "status", str(path), *target, "-o", "json")
    assert code == 0, err
    where = {
        (o.get("cluster"), o["object"]["namespace"], o["object"]["name"]) for o in json.loads(out)["objects"]
    }
    assert {("sandbox:east", "team-a", "web"), (None, "data", "db"), (None, "shop", "ui")} <= where
    code, out, err = run(capsys, "diff", str(path), *target, "-o", "json")
    assert code == 0, out + err  # what the deploy left is what the app says, on each cluster
    changes = {c["object"]: c["change"] for c in json.loads(out)}
    assert changes["sandbox:east: Deployment team-a/web"] == "unchanged"
    assert "Deployment shop/web" not in changes and "Deployment shop/db" not in changes
    # The step moves the component: the next deploy applies it there and prunes it here.
    path.write_text(path.read_text().replace("sandbox:east", "sandbox:west"))
    code, out, err = run(capsys, "diff", str(path), *target, "-o", "json")
    changes = {c["object"]: c["change"] for c in json.loads(out)}
    assert code == 1 and changes["sandbox:west: Deployment team-a/web"] == "create", changes
    code, _out, err = run(capsys, "deploy", str(path), *target)
    assert code == 0, err
    assert _deployment(sandbox_dir, "sandbox:west", "team-a", "web") is not None
    assert _deployment(sandbox_dir, "sandbox:east", "team-a", "web") is None
    code, _out, err = run(capsys, "delete", str(path), *target)
    assert code == 0, err
    assert _deployment(sandbox_dir, "sandbox:west", "team-a", "web") is None
    assert _deployment(sandbox_dir, "local", "data", "db") is None


def test_an_unknown_cluster_fails_the_step_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app(PY_APP.replace("sandbox:east", "sandbox:nowhere"), "shop.py")
    code, out, err = run(capsys, "deploy", str(path))
    assert code == 1
    assert "unknown cluster 'sandbox:nowhere'" in out + err and "expected: one of local" in out + err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("props", "says"),
    [('namespace="Team A"', "is not a namespace's name"), ('cluster="a/b"', "is not a cluster's name")],
)
def test_a_bad_namespace_or_cluster_is_refused_at_its_line(
    write_app: WriteApp, props: str, says: str
) -> None:
    path = write_app(
        "from pyvela import Application\n"
        "from pyvela.stdlib import apply_component, webservice\n"
        f'step = apply_component("s", component="web", {props})\n'
        'app = Application("a", components=[webservice("web", image="x:1")], workflow=[step])\n'
    )
    with pytest.raises(ParameterError) as info:
        load_app(path)
    assert says in info.value.message and info.value.where is not None and info.value.where.line == 3
    # A rule of the class, not a type: the fix does not ask for another type.
    assert info.value.fix is not None and "declared type" not in info.value.fix


def test_kubevela_inputs_reach_a_component_applied_in_another_namespace(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: inputs}
        spec:
          components:
            - name: web
              type: webservice
              properties: {image: "nginx:1"}
              inputs: [{from: tag, parameterKey: image}]
          workflow:
            steps:
              - name: make
                type: apply-object
                properties:
                  value: {apiVersion: v1, kind: ConfigMap, metadata: {name: cfg}, data: {image: "nginx:2"}}
                outputs: [{name: tag, valueFrom: output.value.data.image}]
              - {name: one, type: apply-component, properties: {component: web, namespace: team-b}}
        """,
        "inputs.yaml",
    )
    code, _out, err = run(capsys, "deploy", str(path))
    assert code == 0, err
    live = _deployment(sandbox_dir, "local", "team-b", "web")
    assert live is not None and live["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:2"
