"""The sandbox refuses a HelmRelease whose repository Secret will not do, as helm would."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND
from pyvela.errors import ClusterError


def release(secret: str) -> dict[str, object]:
    return {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        "metadata": {"name": "cache", "namespace": "default"},
        "spec": {
            "releaseName": "cache",
            "chart": {
                "name": "redis",
                "repoURL": "https://charts.example.com",
                "secretRef": {"name": secret},
            },
        },
    }


def secret(name: str, **data: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "default"},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
    }


def test_the_repository_secret_must_exist_and_hold_username_and_password(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    try:
        with pytest.raises(
            ClusterError,
            match=r"the Secret default/creds \(the chart repository's credentials\) does not exist",
        ):
            box.apply(release("creds"))
        box.apply(secret("half", username="u"))
        with pytest.raises(ClusterError, match="has no password") as exc:
            box.apply(release("half"))
        assert exc.value.got == "keys username"
        box.apply(secret("creds", username="u", password="p4ssw0rd-never-shown"))
        live = box.apply(release("creds"))
        assert live["spec"]["chart"]["secretRef"] == {"name": "creds"}
        assert "p4ssw0rd" not in str(live)
    finally:
        box.close()


def test_values_from_must_name_existing_keys_holding_values(tmp_path: Path) -> None:
    box = Sandbox(tmp_path)
    spec = {
        "releaseName": "cache",
        "chart": {"name": "redis", "repoURL": "https://charts.example.com"},
        "valuesFrom": [{"kind": "ConfigMap", "name": "cache-values"}],
    }
    obj = {
        "apiVersion": HELM_API_VERSION,
        "kind": HELM_KIND,
        "metadata": {"name": "cache", "namespace": "default"},
    }
    try:
        with pytest.raises(
            ClusterError, match="valuesFrom: the ConfigMap default/cache-values does not exist"
        ):
            box.apply({**obj, "spec": spec})
        cm = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cache-values", "namespace": "default"},
        }
        box.apply({**cm, "data": {"values.yaml": "- a list"}})
        with pytest.raises(ClusterError, match="is not a YAML mapping"):
            box.apply({**obj, "spec": spec})
        box.apply({**cm, "data": {"values.yaml": "replicas: 2"}})
        assert box.apply({**obj, "spec": spec})["spec"]["valuesFrom"] == spec["valuesFrom"]
    finally:
        box.close()


def test_an_atomic_release_that_fails_is_undone_as_the_helm_driver_does() -> None:
    from pyvela._backends.sandbox.controllers import ROLLBACK_AFTER, helm_release
    from pyvela._backends.sandbox.settings import Sim

    obj = {"metadata": {"generation": 2}, "spec": {"chart": {"name": "redis"}, "atomic": True}}
    failing = Sim(delay=1.0, fail="Failed")
    status, nxt = helm_release(obj, {"revision": 1}, 0.0, 1.5, failing)
    assert status["phase"] == "failed" and status["revision"] == 2 and nxt == 1.0 + ROLLBACK_AFTER
    assert status["message"].endswith("; atomic: rolled back to revision 1 (helm rollback)")
    status, nxt = helm_release(obj, {"revision": 1}, 0.0, 1.0 + ROLLBACK_AFTER, failing)
    assert (status["phase"], status["revision"], status["description"], nxt) == (
        "deployed",
        3,
        "Rollback to 1",
        None,
    )
    first, _ = helm_release(obj, {}, 0.0, 2.0, failing)
    assert first["phase"] == "failed" and first["message"].endswith(
        "atomic: the failed install was uninstalled (helm uninstall)"
    )
    plain, _ = helm_release({**obj, "spec": {"chart": {"name": "redis"}}}, {"revision": 1}, 0.0, 9.0, failing)
    assert plain["phase"] == "failed" and "atomic" not in plain["message"]
