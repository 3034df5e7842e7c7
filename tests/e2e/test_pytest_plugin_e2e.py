"""The pytest plugin's ``pyvela_e2e`` marker running a platform team's test on the real control plane."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from plugin_project import make_project

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef

pytest_plugins = ["pytester"]


def test_a_marked_test_deploys_to_the_named_cluster_and_cleans_up(
    kube_cluster: Any, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(pytester, monkeypatch)
    namespace = f"plugin-{uuid.uuid4().hex[:6]}"
    project.makepyfile(
        f"""
        import pytest

        @pytest.mark.pyvela_e2e(context={kube_cluster.context!r})
        def test_on_the_cluster(deploy_app, pyvela_cluster, pyvela_sandbox):
            assert pyvela_cluster is not pyvela_sandbox and not pyvela_cluster.is_sandbox
            assert pyvela_cluster.context == {kube_cluster.context!r}
            deployed = deploy_app("apps/shop.py", namespace={namespace!r})
            assert deployed.ok, deployed
            assert deployed.status["target"].startswith("cluster https://127.0.0.1:")
            live = pyvela_cluster.get("Deployment", "shop-web", {namespace!r})
            assert live["status"]["readyReplicas"] == 2  # kwok's pods, through the real controllers

        def test_unmarked_stays_on_the_sandbox(pyvela_cluster):
            assert pyvela_cluster.is_sandbox
        """
    )
    # `--opt=FILE`, not `--opt FILE`: pytest picks its rootdir (and ini) from the paths among
    # the arguments before plugins add their options, and would take the kubeconfig's directory.
    result = project.runpytest(
        f"--pyvela-context={kube_cluster.context}", f"--pyvela-kubeconfig={kube_cluster.kubeconfig}"
    )
    result.assert_outcomes(passed=2)

    kube = KubeBackend.connect(kubeconfig=kube_cluster.kubeconfig, context=kube_cluster.context)
    try:
        # The app the test deployed is gone again (a real cluster is shared): objects and state.
        assert kube.get(ObjectRef("apps/v1", "Deployment", namespace, "shop-web")) is None
        assert kube.get(ObjectRef("v1", "Secret", namespace, "pyvela-app.shop")) is None
    finally:
        kube.delete(ObjectRef("v1", "Namespace", "", namespace), wait=False)
        kube.close()
