"""``--in-cluster`` offline: the service account's files and server found as client-go finds
them (KUBERNETES_SERVICE_HOST/PORT, never a DNS name), the directory overridable, a missing
piece one message naming it, the token never in a message. The e2e test
(tests/e2e/test_kube_controller_kubevela.py) runs the controller with such credentials."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela._backends.kube.backend import KubeBackend
from pyvela._backends.kube.incluster import DIR_ENV, service_account
from pyvela._controller.login import service_account_credentials
from pyvela.errors import ClusterError

TOKEN = "eyJhbGciOiJSUzI1NiJ9.secret-part.sig"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def account(tmp_path: Path, *, namespace: str | None = "pyvela-system") -> Path:
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "ca.crt").write_text(CA)
    if namespace is not None:
        (tmp_path / "namespace").write_text(namespace)
    return tmp_path


def env(folder: Path, host: str = "127.0.0.1") -> dict[str, str]:
    return {"KUBERNETES_SERVICE_HOST": host, "KUBERNETES_SERVICE_PORT": "6443", DIR_ENV: str(folder)}


def test_the_service_account_from_the_environment_and_its_directory(tmp_path: Path) -> None:
    sa = service_account(env(account(tmp_path)))
    assert sa.server == "https://127.0.0.1:6443"
    assert (sa.token_file, sa.ca_file, sa.namespace) == (
        tmp_path / "token",
        tmp_path / "ca.crt",
        "pyvela-system",
    )
    assert sa.token() == TOKEN
    assert service_account(env(tmp_path, "fd00::1")).server == "https://[fd00::1]:6443"
    bare = tmp_path / "bare"
    bare.mkdir()
    assert service_account(env(account(bare, namespace=None))).namespace is None


@pytest.mark.parametrize("missing", ["host", "token", "ca.crt"])
def test_a_missing_piece_is_one_message(tmp_path: Path, missing: str) -> None:
    environ = env(account(tmp_path))
    if missing == "host":
        del environ["KUBERNETES_SERVICE_HOST"]
    else:
        (tmp_path / missing).unlink()
    with pytest.raises(ClusterError) as err:
        service_account(environ)
    text = str(err.value)
    assert (missing if missing != "host" else "KUBERNETES_SERVICE_HOST") in text and TOKEN not in text
    if missing != "host":  # the path is said (not taken for a credential by the redaction)
        assert str(tmp_path / missing) in text
    assert DIR_ENV in (err.value.fix or "")


def test_an_empty_token_is_refused(tmp_path: Path) -> None:
    sa = service_account(env(account(tmp_path)))
    (tmp_path / "token").write_text("")
    with pytest.raises(ClusterError, match="empty"):
        sa.token()


def test_both_clients_use_the_same_server_and_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in env(account(tmp_path)).items():
        monkeypatch.setenv(key, value)
    kopf = service_account_credentials()
    assert kopf == {
        "server": "https://127.0.0.1:6443",
        "ca_path": str(tmp_path / "ca.crt"),
        "token": TOKEN,
        "default_namespace": "pyvela-system",
    }
    kube = KubeBackend.connect(in_cluster=True)
    try:
        assert kube.server == "https://127.0.0.1:6443" and "in-cluster" in kube.description
        assert TOKEN not in kube.redact(f"token {TOKEN} leaked")  # the bare token, not only "bearer …"
    finally:
        kube.close()
    (tmp_path / "token").write_text("rotated\n")  # kopf logs in again after a 401: the new token
    assert service_account_credentials()["token"] == "rotated"


def test_in_cluster_outside_a_pod_is_one_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(ClusterError, match="not in a pod"):
        KubeBackend.connect(in_cluster=True)
