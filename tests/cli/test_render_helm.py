"""`pyvela render` and `pyvela diff` open a HelmRelease's chart with `helm template`.

The chart is served by a loopback repository (tests/chartrepo.py) and packaged by the real
helm the test control plane builds (or helm on PATH); without helm, or with a repository
that does not answer, the release is shown as before with one note on stderr.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from pyvela._cli.main import main
from pyvela._core.objects import ObjectRef
from tests.chartrepo import CHARTS_DIR, ChartRepo
from tests.kube_cluster import find_helm

WriteApp = Callable[..., Path]
DEFS = ["--defs", "pyvela.stdlib"]
APP = """
from pyvela import Application
from pyvela.stdlib.helm import ValuesFrom, helm
app = Application("h", namespace="web", components=[
    helm("redis", chart="redis-cluster", url="{url}", version="6.2.7", values={{"replicas": 3}}{extra}),
])
"""
CHART_OBJECTS = {
    "Service web/redis-redis-cluster",
    "Service web/redis-redis-cluster-headless",
    "StatefulSet web/redis-redis-cluster",
}


HELM = find_helm()
needs_helm = pytest.mark.skipif(HELM is None, reason="no helm binary (build the test control plane)")


@pytest.fixture
def helm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """helm on PATH, with its cache and config in the test's directory."""
    assert HELM is not None
    monkeypatch.delenv("PYVELA_HELM", raising=False)
    monkeypatch.setenv("PATH", f"{Path(HELM).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    for var in ("CACHE", "CONFIG", "DATA"):
        monkeypatch.setenv(f"HELM_{var}_HOME", str(tmp_path / "helm" / var.lower()))
    return HELM


@pytest.fixture
def repo(helm_home: str) -> Iterator[ChartRepo]:
    with ChartRepo(helm_home, [CHARTS_DIR / "redis-cluster"]) as served:
        yield served


def _key(obj: dict[str, object]) -> str:
    meta = obj["metadata"]
    assert isinstance(meta, dict)
    return f"{obj['kind']} {meta.get('namespace')}/{meta['name']}"


def _render(capsys: pytest.CaptureFixture[str], app: Path) -> tuple[list[dict[str, object]], str]:
    code = main(["render", str(app), *DEFS, "-o", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    listed = json.loads(out.out)  # kubectl's List of the chart's objects, and pyvela's releases
    return listed.get("pyvelaHelmReleases", []) + listed["items"], out.err


@needs_helm
def test_render_shows_the_release_then_its_charts_objects_with_the_values(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, repo: ChartRepo
) -> None:
    objects, err = _render(capsys, write_app(APP.format(url=repo.url, extra="")))
    assert "note:" not in err
    assert objects[0]["kind"] == "HelmRelease"
    chart = {_key(o): o for o in objects[1:]}
    assert set(chart) == CHART_OBJECTS
    sts = chart["StatefulSet web/redis-redis-cluster"]
    assert sts["spec"]["replicas"] == 3  # type: ignore[index]  # the release's values
    annotations = sts["metadata"]["annotations"]  # type: ignore[index]
    assert annotations == {
        "pyvela.dev/helm-release": "web/redis",
        "pyvela.dev/helm-chart": "redis-cluster-6.2.7",
    }
    # The YAML output keeps the release commented out for review and the chart's objects after it.
    assert main(["render", str(write_app(APP.format(url=repo.url, extra=""))), *DEFS]) == 0
    docs = [d for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert {_key(d) for d in docs} == CHART_OBJECTS


@needs_helm
def test_without_helm_the_output_is_as_before_with_one_note(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, repo: ChartRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = write_app(APP.format(url=repo.url, extra=""))
    monkeypatch.setenv("PATH", str(Path(app).parent / "empty"))
    objects, err = _render(capsys, app)
    assert [o["kind"] for o in objects] == ["HelmRelease"]
    notes = [line for line in err.splitlines() if line.startswith("note:")]
    assert len(notes) == 1
    assert "simulating the release without opening its chart" in notes[0]
    assert "helm is not installed" in notes[0]


@needs_helm
def test_an_unreachable_repository_gets_the_note_without_its_credentials(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, helm_home: str
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    url = f"http://user:s3cret-pw@127.0.0.1:{port}"
    objects, err = _render(capsys, write_app(APP.format(url=url, extra="")))
    assert [o["kind"] for o in objects] == ["HelmRelease"]
    warnings = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "cannot open the chart redis-cluster 6.2.7" in warnings[0], err
    assert warnings[0].startswith("warning: component 'redis': HelmRelease web/redis: ")
    assert "s3cret-pw" not in err


@needs_helm
def test_credentials_or_values_from_need_the_cluster(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, repo: ChartRepo
) -> None:
    app = write_app(APP.format(url=repo.url, extra=', secret_ref="repo-creds"'))
    objects, err = _render(capsys, app)
    assert len(objects) == 1 and "credentials from the Secret web/repo-creds" in err
    assert err.startswith("note: component 'redis': ")  # not tried offline: a note, not a warning
    extra = ', values_from=(ValuesFrom(kind="ConfigMap", name="vals"),)'
    objects, err = _render(capsys, write_app(APP.format(url=repo.url, extra=extra), "app2.py"))
    assert len(objects) == 1 and "valuesFrom (ConfigMap/Secret keys) needs the cluster" in err


@needs_helm
def test_diff_shows_the_charts_objects_with_values_from_read_from_the_backend(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, repo: ChartRepo, sandbox_dir: Path
) -> None:
    extra = ', values_from=(ValuesFrom(kind="ConfigMap", name="vals", optional=True),)'
    app = write_app(APP.format(url=repo.url, extra=extra))
    code = main(["diff", str(app), *DEFS, "-o", "json"])
    out = capsys.readouterr()
    assert code == 1, out.err
    items = {c["object"]: c for c in json.loads(out.out)}
    assert set(items) >= CHART_OBJECTS
    sts = items["StatefulSet web/redis-redis-cluster"]
    assert sts["change"] == "create" and sts["component"] == "redis"
    assert sts["note"] == "from chart redis-cluster-6.2.7 of release web/redis"
    assert "+  replicas: 3" in sts["diff"] and "pyvela.dev/helm" not in sts["diff"]
    assert "note:" not in out.err


@needs_helm
def test_the_sandbox_installs_the_charts_objects_so_a_second_diff_has_nothing_to_change(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, repo: ChartRepo, sandbox_dir: Path
) -> None:
    from pyvela._backends.sandbox.backend import Sandbox

    app = write_app(APP.format(url=repo.url, extra=""))
    assert main(["deploy", str(app), *DEFS, "-o", "json"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    code = main(["diff", str(app), *DEFS, "-o", "json"])
    items = {c["object"]: c["change"] for c in json.loads(capsys.readouterr().out)}
    assert code == 0 and set(items) >= CHART_OBJECTS
    assert set(items.values()) == {"unchanged"}
    sts = ObjectRef("apps/v1", "StatefulSet", "web", "redis-redis-cluster")
    with Sandbox(sandbox_dir) as sandbox:
        stored = sandbox.get(sts)
        assert stored is not None and stored["spec"]["replicas"] == 3
        assert "pyvela.dev/helm-release" not in (stored["metadata"].get("annotations") or {})
        # helm uninstall: the release's objects go with it.
        sandbox.delete(ObjectRef("pyvela.dev/v1alpha1", "HelmRelease", "web", "redis"))
        assert sandbox.get(sts) is None
