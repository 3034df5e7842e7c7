"""``pyvela convert``: the Python it writes from the seed's KubeVela YAML imports, passes
mypy --strict and renders the objects the YAML renders; CUE definitions become stubs with
their parameters; bad input is one message and exit 1."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._app.loader import LoadedApp
from pyvela._app.render import render_component
from pyvela._cli.main import main
from tests.app.kubevela.conftest import SEED_APP, SEED_DEFS, SHARED_SEED
from tests.conftest import ROOT

SEED_CUE = SHARED_SEED / "trait-and-steps.yaml"

#: The seed's two kube components, used without the CUE trait and steps (which convert as stubs).
KUBE_APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: kube-only
spec:
  components:
    - name: base-service
      type: base-service
      properties:
        image: nginx:1.14.2
        cluster: dev
    - name: proxy-service
      type: proxy-service
      properties:
        image: nginx:1.25
        cluster: prod
"""


#: KubeVela data flow with no Python spelling: a computed output, and an `if`.
COMPUTED_APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: computed
spec:
  components:
    - {name: base-service, type: base-service, properties: {image: "nginx:1", cluster: default}}
    - {name: proxy-service, type: proxy-service, properties: {image: "nginx:1", cluster: default}}
  workflow:
    steps:
      - name: base
        type: apply-base
        properties: {component: base-service}
        outputs:
          - {name: addr, valueFrom: 'outputs.clusterIP + ":80"'}
      - name: proxy
        type: apply-proxy
        if: status.base.succeeded
        timeout: 5m
        inputs:
          - {from: addr, parameterKey: backendIP}
        properties: {component: proxy-service}
"""


def _mypy(folder: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--show-error-codes", "."],
        cwd=folder,
        env={"MYPYPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr


@pytest.fixture
def importable(tmp_path: Path) -> Iterator[Path]:
    """tmp_path on sys.path, and the generated modules forgotten afterwards."""
    sys.path.insert(0, str(tmp_path))
    before = set(sys.modules)
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in set(sys.modules) - before:
        if name in ("kubevela_defs", "lixiang_app", "kube_only") or name.startswith("kubevela_defs."):
            del sys.modules[name]


def _convert(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["convert", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def _rendered(loaded: LoadedApp) -> list[dict[str, object]]:
    return [
        o.object
        for use in loaded.app.components
        for o in render_component(loaded.app, use, revision=loaded.revision).objects
    ]


def test_the_seed_app_converts_to_the_python_app_it_came_from(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _convert(str(SEED_APP), "-o", str(importable), "--defs", "platform_defs", capsys=capsys)
    assert code == 0, err
    module = importable / "lixiang_app.py"
    assert f"wrote {module}" in out
    text = module.read_text()
    # Typed references between steps, as apps/lixiang.py writes them.
    assert "backend_ip=apply_base_service.outputs.cluster_ip" in text
    assert "from platform_defs import" in text
    from_python, from_yaml = load_app(module), load_app(SEED_APP)
    assert from_python.spec == from_yaml.spec
    assert from_python.revision == from_yaml.revision
    assert _rendered(from_python) == _rendered(from_yaml)


def test_kube_schematics_convert_to_definitions_that_render_the_same(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app_yaml = importable / "src" / "kube-only.yaml"
    app_yaml.parent.mkdir()
    app_yaml.write_text(KUBE_APP)
    code, out, err = _convert(str(app_yaml), str(SEED_DEFS), "-o", str(importable), capsys=capsys)
    assert code == 0, err
    defs = (importable / "kubevela_defs.py").read_text()
    assert "class BaseServiceParams" in defs and "image: str" in defs
    # The seed's proxy-service writes its cluster into env[5] (LOG_BASE): said, and kept as it is.
    assert "env var 'LOG_BASE' by position" in out
    from_python = load_app(importable / "kube_only.py", defs=["kubevela_defs"])
    from_yaml = load_app(app_yaml, defs=[str(SEED_DEFS)])
    assert _rendered(from_python) == _rendered(from_yaml)
    assert len(_rendered(from_python)) == 2


def test_the_generated_modules_pass_mypy_strict(importable: Path, capsys: pytest.CaptureFixture[str]) -> None:
    if not SEED_CUE.exists():
        pytest.skip("the shared seed is not on this machine")
    apps = importable / "seed"
    kube = importable / "kube"
    code, out, err = _convert(str(SEED_APP), str(SEED_DEFS), str(SEED_CUE), "-o", str(apps), capsys=capsys)
    assert code == 0, err
    assert "WorkflowStepDefinition apply-base: a stub" in out
    # The CUE step's stub declares the output the app reads, so the reference stays typed.
    assert "class ApplyBaseOutputs" in (apps / "kubevela_defs.py").read_text()
    assert "backend_ip=apply_base_service.outputs.cluster_ip" in (apps / "lixiang_app.py").read_text()
    (importable / "kube-only.yaml").write_text(KUBE_APP)
    code, _, err = _convert(
        str(importable / "kube-only.yaml"), str(SEED_DEFS), "-o", str(kube), capsys=capsys
    )
    assert code == 0, err
    for folder in (apps, kube):
        _mypy(folder)


def test_computed_outputs_become_kubevela_steps_that_compute_them(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (importable / "computed.yaml").write_text(COMPUTED_APP)
    out_dir = importable / "out"
    code, out, err = _convert(
        str(importable / "computed.yaml"), "-o", str(out_dir), "--defs", "platform_defs", capsys=capsys
    )
    assert code == 0, err
    assert "left to do" not in out
    text = (out_dir / "computed.py").read_text()
    assert "TODO" not in text
    assert """outputs={"addr": 'outputs.clusterIP + ":80"'}""" in text
    assert "backend_ip=base.outputs.kv_addr" in text
    assert '.when(lambda view: view.succeeded("base"))' in text
    assert ".with_timeout(300.0)" in text
    loaded = load_app(out_dir / "computed.py")
    assert [s.name for s in loaded.app.workflow.steps] == ["base", "proxy"]  # type: ignore[union-attr]
    # The same data flow as the YAML's: the output computed from the plain field, then passed on.
    proxy = loaded.plan.steps["proxy"]
    assert str(proxy.use.params.backend_ip) == "base.outputs.kv_addr"
    assert proxy.dependencies == {"base"}
    assert loaded.spec["workflow"]["steps"][0]["properties"]["kv_dataflow"] == {
        "outputs": {"addr": 'outputs.clusterIP + ":80"'}
    }
    _mypy(out_dir)


def test_cue_definitions_become_stubs_with_their_parameters(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = importable / "cue.yaml"
    src.write_text(
        textwrap.dedent(
            """\
            apiVersion: core.oam.dev/v1beta1
            kind: TraitDefinition
            metadata:
              name: sidecar-port
            spec:
              appliesToWorkloads: [deployments.apps]
              schematic:
                cue:
                  template: |
                    parameter: {
                      name: string
                      port: *8080 | int
                      hosts?: [...string]
                      labels: [string]: string
                      probe: {
                        path: string
                      }
                      mode: "a" | "b"
                    }
                    patch: spec: template: spec: containers: [{name: parameter.name}]
            """
        )
    )
    code, out, err = _convert(str(src), "-o", str(importable / "out"), capsys=capsys)
    assert code == 0, err
    assert "TraitDefinition sidecar-port: a stub; its CUE body is a comment" in out
    text = (importable / "out" / "kubevela_defs.py").read_text()
    for field in (
        "name: str",
        "labels: dict[str, str]",
        "probe: dict[str, Any]",
        "port: int = 8080",
        "hosts: list[str] | None = None",
        'mode: Any  # TODO(convert): CUE type "a" | "b"',
    ):
        assert field in text, text
    assert "# patch: spec: template: spec: containers: [{name: parameter.name}]" in text
    assert "applies_to=('deployments.apps',)" in text or 'applies_to=("deployments.apps",)' in text
    sys.path.insert(0, str(importable / "out"))
    try:
        import kubevela_defs  # type: ignore[import-not-found]

        params = kubevela_defs.SidecarPortParams(name="s", labels={}, probe={}, mode="a")
        assert params.port == 8080 and params.hosts is None
        with pytest.raises(NotImplementedError, match="not ported yet"):
            kubevela_defs.sidecar_port.render(params, None)
    finally:
        sys.path.remove(str(importable / "out"))


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (None, "missing.yaml", "does not exist"),
        ("app = 1\n", "app.py", "is not a YAML file"),
        (
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
            "cm.yaml",
            "is not something pyvela converts",
        ),
        ("a: [\n", "broken.yaml", "not valid YAML"),
        (KUBE_APP.replace("type: proxy-service", "type: proxy-servce"), "typo.yaml", "proxy-servce"),
    ],
)
def test_bad_input_is_one_message_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, name: str, message: str
) -> None:
    src = tmp_path / name
    if content is not None:
        src.write_text(content)
    code, out, err = _convert(str(src), "-o", str(tmp_path / "out"), "--defs", "platform_defs", capsys=capsys)
    assert code == 1
    assert err.startswith("error: ") and message in err, err
    assert "Traceback" not in err and out == ""
    if name != "missing.yaml":
        assert src.name in err  # the file (and its line, where there is one)


CONDITIONS_APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: conds
spec:
  components:
    - {name: base-service, type: base-service, properties: {image: "nginx:1", cluster: default}}
    - {name: redis, type: helm, properties: {chart: c, version: "1", repoUrl: "https://x"}}
  workflow:
    steps:
      - name: base
        type: apply-base
        properties: {component: base-service}
        outputs: [{name: ip, valueFrom: outputs.clusterIP}]
      - name: redis
        type: apply-helm
        inputs: [{from: ip}]
        if: '!status.base.timeout && (inputs.ip == "10.0.0.1" || context.name != "conds")'
        properties: {component: redis}
"""


def test_if_conditions_become_when_predicates_that_decide_the_same(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyvela import WorkflowView

    src = importable / "conds.yaml"
    src.write_text(CONDITIONS_APP)
    code, out, err = _convert(str(src), "-o", str(importable), "--defs", "platform_defs", capsys=capsys)
    assert code == 0, err
    assert "TODO" not in (importable / "conds.py").read_text() and "left to do" not in out
    from_python, from_yaml = load_app(importable / "conds.py"), load_app(src)
    predicate = from_python.plan.steps["redis"].use.condition
    condition = from_yaml.plan.steps["redis"].use.condition
    assert callable(predicate) and callable(condition)
    for phase, reason, ip in [
        ("succeeded", "", "10.0.0.1"),
        ("succeeded", "", "10.0.0.2"),
        ("failed", "Timeout", "10.0.0.1"),
        ("failed", "Error", "10.0.0.1"),
    ]:
        view = WorkflowView(
            phases={"base": phase, "redis": "pending"},
            outputs={"base": {"cluster_ip": ip}},
            reasons={"base": reason},
        )
        assert predicate(view) == condition(view), (phase, reason, ip)
    _mypy(importable)


def test_step_groups_dag_mode_namespace_and_policies_convert_to_the_same_app(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = importable / "grouped.yaml"
    src.write_text(GROUPED_APP)
    code, _, err = _convert(str(src), "-o", str(importable), "--defs", "platform_defs", capsys=capsys)
    assert code == 0, err
    text = (importable / "grouped.py").read_text()
    assert 'StepGroup(name="first", steps=[base, redis_step], mode="DAG")' in text
    assert "garbage_collect(" in text and "from pyvela._" not in text  # builtins through the façade
    from_python, from_yaml = load_app(importable / "grouped.py"), load_app(src)
    assert from_python.spec == from_yaml.spec
    assert from_python.revision == from_yaml.revision
    _mypy(importable)


GROUPED_APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: grouped
  namespace: team-a
spec:
  components:
    - {name: base-service, type: base-service, properties: {image: "nginx:1", cluster: default}}
    - {name: redis, type: helm, properties: {chart: c, version: "1", repoUrl: "https://x"}}
  policies:
    - {name: keep, type: garbage-collect, properties: {keepLegacyResource: true}}
  workflow:
    mode: {steps: DAG}
    steps:
      - name: first
        type: step-group
        subSteps:
          - {name: base, type: apply-base, properties: {component: base-service}}
          - {name: redis, type: apply-helm, properties: {component: redis}, dependsOn: [base]}
      - {name: again, type: apply-component, dependsOn: [first], properties: {component: redis}}
"""


def test_without_ruff_the_modules_are_still_well_formed(
    importable: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(importable / "nothing-here"))
    src = importable / "kube-only.yaml"
    src.write_text(KUBE_APP)
    code, out, err = _convert(str(src), str(SEED_DEFS), "-o", str(importable), capsys=capsys)
    assert code == 0, err
    assert "ruff is not on PATH" in out
    from_python = load_app(importable / "kube_only.py", defs=["kubevela_defs"])
    assert _rendered(from_python) == _rendered(load_app(src, defs=[str(SEED_DEFS)]))
    _mypy(importable)


IO_APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: io
spec:
  components:
    - name: web
      type: webservice
      properties: {image: "nginx:1", ports: [{port: 80, expose: true}]}
      outputs:
        - name: img
          valueFrom: output.spec.template.spec.containers[0].image
    - name: worker
      type: worker
      dependsOn: [web]
      properties: {image: "busybox"}
      inputs:
        - {from: img, parameterKey: properties.image}
"""


def test_standard_types_nested_parameters_and_component_io(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = importable / "io.yaml"
    src.write_text(IO_APP)
    code, out, err = _convert(str(src), "-o", str(importable), capsys=capsys)
    assert code == 0, err
    text = (importable / "io.py").read_text()
    assert "from pyvela.stdlib import Port, apply_component, webservice, worker" in text
    assert "ports=(Port(port=80, expose=True),)" in text
    assert (
        'inputs={"properties.image": web_step.outputs.kv_img}' in text and "applies=worker_component" in text
    )
    assert 'outputs={"img": "output.spec.template.spec.containers[0].image"}' in text
    assert "left to do" not in out
    from_python, from_yaml = load_app(importable / "io.py"), load_app(src)
    assert from_python.spec["components"] == from_yaml.spec["components"]
    _mypy(importable)


def test_an_app_module_never_shadows_what_it_imports(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = importable / "src.yaml"
    src.write_text(KUBE_APP.replace("name: kube-only", "name: kubevela-defs"))
    code, _, err = _convert(str(src), str(SEED_DEFS), "-o", str(importable / "out"), capsys=capsys)
    assert code == 0, err
    assert (importable / "out" / "kubevela_defs_app.py").exists()
    twice = importable / "twice.yaml"
    twice.write_text(KUBE_APP + "---\n" + KUBE_APP)
    code, _, err = _convert(str(twice), str(SEED_DEFS), "-o", str(importable / "out2"), capsys=capsys)
    assert code == 1 and "two Applications would both be written to kube_only.py" in err
    assert "twice.yaml:" in err


CALLS_APP = """\
apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: calls
spec:
  components:
    - {name: base-service, type: base-service, properties: {image: "nginx:1", cluster: default}}
    - {name: redis, type: helm, properties: {chart: c, version: "1", repoUrl: "https://x"}}
  workflow:
    steps:
      - name: base
        type: apply-base
        properties: {component: base-service}
        outputs: [{name: ip, valueFrom: outputs.clusterIP}]
      - name: redis
        type: apply-helm
        inputs: [{from: ip}]
        if: |
          import "strconv"
          strconv.Itoa(strconv.Atoi("4") + 1) == "5" && strconv.FormatInt(2, 10) + inputs.ip != "2x"
        properties: {component: redis}
"""


def test_an_if_calling_strconv_becomes_a_predicate_that_decides_the_same(
    importable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pyvela import WorkflowView

    src = importable / "calls.yaml"
    src.write_text(CALLS_APP)
    code, out, err = _convert(str(src), "-o", str(importable), "--defs", "platform_defs", capsys=capsys)
    assert code == 0, err
    text = (importable / "calls.py").read_text()
    assert "TODO" not in text and "left to do" not in out
    assert '(str((int("4") + 1)) == "5")' in text and "str(2) + view.output(base.outputs.cluster_ip)" in text
    predicate = load_app(importable / "calls.py").plan.steps["redis"].use.condition
    condition = load_app(src).plan.steps["redis"].use.condition
    assert callable(predicate) and callable(condition)
    for ip in ("x", "y"):
        view = WorkflowView(
            phases={"base": "succeeded", "redis": "pending"}, outputs={"base": {"cluster_ip": ip}}, reasons={}
        )
        assert predicate(view) == condition(view), ip
        assert predicate(view) is (ip != "x")
