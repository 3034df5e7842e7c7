"""``helm`` (the FluxCD addon's properties) and ``helmchart``: what they render, what they refuse
(properties only FluxCD's controllers or KubeVela's renderer could honour), and a deploy on
the sandbox's simulated HelmRelease. The real helm CLI: tests/e2e/test_stdlib_components.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from stdlib_support import workload

from pyvela.errors import ParameterError
from pyvela.stdlib import (
    ChartOptions,
    ChartRelease,
    ChartSource,
    ConditionWanted,
    GitSource,
    HealthCriterion,
    HelmRepositoryOptions,
    ResourceSelector,
    helm,
    helmchart,
)
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
CHART = Path(__file__).resolve().parents[1] / "charts" / "redis-cluster"
REPO = "https://charts.example.com"


def test_helm_names_the_release_as_fluxcd_does() -> None:
    spec = workload(helm("c", url=REPO, chart="redis"))
    assert spec["metadata"]["name"] == spec["spec"]["releaseName"] == "c"
    assert spec["spec"]["chart"] == {"name": "redis", "repoURL": REPO, "repoType": "helm"}  # "*": newest
    moved = workload(helm("c", url=REPO, chart="redis", target_namespace="data"))
    assert (moved["metadata"]["name"], moved["metadata"]["namespace"]) == ("data-c", "data")
    named = workload(helm("c", url=REPO, chart="redis", target_namespace="data", release_name="r"))
    assert named["metadata"]["name"] == named["spec"]["releaseName"] == "r"


def test_helm_takes_the_seeds_repo_url() -> None:
    spec = workload(helm("c", repo_url=REPO, chart="redis", version="6.2.7"))
    assert spec["spec"]["chart"] == {"name": "redis", "version": "6.2.7", "repoURL": REPO, "repoType": "helm"}


def test_helmchart_reads_the_source_kind() -> None:
    oci = workload(helmchart("c", chart=ChartSource(source="oci://r.example.com/charts/a", version="1.0.0")))
    assert oci["spec"]["chart"] == {
        "name": "oci://r.example.com/charts/a",
        "version": "1.0.0",
        "repoType": "oci",
    }
    local = workload(helmchart("c", chart=ChartSource(source="./charts/a", version="9.9.9")))
    assert local["spec"]["chart"] == {
        "name": "./charts/a",
        "repoType": "local",
    }  # a directory has one version
    named = workload(
        helmchart("c", chart=ChartSource(source="a", repo_url=REPO), release=ChartRelease(namespace="x"))
    )
    assert (named["metadata"]["name"], named["metadata"]["namespace"]) == ("c", "x")


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (
            {"repo_type": "git", "url": REPO, "git": GitSource(branch="main")},
            "repo_type 'git' is not supported",
        ),
        ({"repo_type": "oss", "url": REPO}, "repo_type 'oss' is not supported"),
        ({"url": REPO, "source_name": "existing"}, "source_name is not supported"),
        ({"url": REPO, "repo_url": "https://other.example.com"}, "give one of them"),
        ({}, "url is required"),
        (
            {"repo_type": "oci", "url": "oci://r.example.com", "secret_ref": "creds"},
            "secret_ref with repo_type 'oci'",
        ),
        ({"url": REPO, "values_files": ("a.yaml",)}, "values_files is not supported"),
        ({"url": REPO, "upgrade_crd": True}, "never replaces them"),
        ({"url": REPO, "helmrepository": HelmRepositoryOptions(provider="aws")}, "provider 'aws'"),
        ({"url": REPO, "retries": "3"}, "retries"),
    ],
)
def test_helm_refuses_what_it_cannot_honour(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        helm("c", chart="redis", **params)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"chart": ChartSource(source="https://example.com/a-1.0.0.tgz")}, "chart archive URL"),
        (
            {
                "chart": ChartSource(source="a", repo_url=REPO),
                "health_status": (
                    HealthCriterion(
                        resource=ResourceSelector(kind="Deployment"), condition=ConditionWanted(type="x")
                    ),
                ),
            },
            "health_status is not supported",
        ),
        ({"chart": ChartSource(source="a", repo_url=REPO), "options": ChartOptions(wait=True)}, "wait"),
        (
            {"chart": ChartSource(source="a", repo_url=REPO), "options": ChartOptions(max_history=3)},
            "max_history",
        ),
        ({"chart": ChartSource(source=3)}, "chart.source"),  # type: ignore[arg-type]
    ],
)
def test_helmchart_refuses_what_it_cannot_honour(params: dict[str, Any], words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        helmchart("c", **params)


def test_both_deploy_on_the_sandbox(write_app: WriteApp, tmp_path: Path) -> None:
    app = write_app(
        f"""
        from pyvela import Application
        from pyvela.stdlib import ChartSource, helm, helmchart

        app = Application("charts", components=[
            helm("cache", repo_type="local", chart="{CHART}", values={{"cluster": {{"nodes": 1}}}}),
            helmchart("queue", chart=ChartSource(source="{CHART}")),
        ])
        """
    )
    ops = ops_for(app, sandbox(tmp_path / "sb"), defs=["pyvela.stdlib"])
    result = ops.deploy()
    assert result.ok, result
    kinds = {(o["object"]["kind"], o["object"]["name"]): o["ready"] for o in ops.status()["objects"]}
    assert kinds == {("HelmRelease", "cache"): True, ("HelmRelease", "queue"): True}


def test_helmchart_atomic_goes_to_the_release() -> None:
    obj = workload(
        helmchart("c", chart=ChartSource(source="a", repo_url=REPO), options=ChartOptions(atomic=True))
    )
    assert obj["spec"]["atomic"] is True
    assert "atomic" not in workload(helmchart("c", chart=ChartSource(source="a", repo_url=REPO)))["spec"]
