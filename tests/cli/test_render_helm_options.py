"""How render and diff open charts: a repository's credentials in diff, ``--no-charts``,
``--strict``, and a repository that never answers (one bounded wait, one warning naming the
component, chart and repository; the next release from it is not asked again).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyvela._cli.main import main
from tests.chartrepo import CHARTS_DIR, ChartRepo
from tests.cli.test_render_helm import CHART_OBJECTS, DEFS, HELM, WriteApp, helm_home, needs_helm

__all__ = ["helm_home"]  # the fixture, used here by name

USER, PASSWORD = "chart-reader", f"pw-{uuid.uuid4().hex}"
APP = """
from pyvela import Application
from pyvela.stdlib.helm import helm
app = Application("h", namespace="web", components=[
    helm("redis", chart="redis-cluster", url="{url}", version="6.2.7", values={{"replicas": 3}}{extra}),
    {more}
])
"""
SECOND = 'helm("cache", chart="redis-cluster", url="{url}", version="6.2.7"),'


@pytest.fixture
def auth_repo(helm_home: str) -> Iterator[ChartRepo]:
    assert HELM is not None
    with ChartRepo(helm_home, [CHARTS_DIR / "redis-cluster"], auth=(USER, PASSWORD)) as served:
        yield served


def _secret(sandbox_dir: Path, password: str) -> None:
    from pyvela._backends.sandbox.backend import Sandbox

    data = {"username": USER, "password": password}
    with Sandbox(sandbox_dir) as sandbox:
        sandbox.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}})
        sandbox.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "repo-creds", "namespace": "web"},
                "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
            }
        )


def _app(write_app: WriteApp, url: str, extra: str = "", more: str = "") -> Path:
    return write_app(APP.format(url=url, extra=extra, more=more))


@needs_helm
def test_diff_opens_a_chart_with_the_repositorys_credentials_from_the_secret(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, auth_repo: ChartRepo, sandbox_dir: Path
) -> None:
    _secret(sandbox_dir, PASSWORD)
    app = _app(write_app, auth_repo.url, ', secret_ref="repo-creds"')
    code = main(["diff", str(app), *DEFS, "-o", "json"])
    out = capsys.readouterr()
    assert code == 1, out.err
    items = {c["object"]: c for c in json.loads(out.out)}
    assert set(items) >= CHART_OBJECTS, out.err
    assert items["StatefulSet web/redis-redis-cluster"]["change"] == "create"
    sent = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert sent in auth_repo.seen_auth  # helm authenticated with the Secret's credentials
    assert "warning:" not in out.err and "note:" not in out.err
    assert PASSWORD not in out.out + out.err


@needs_helm
def test_diff_with_a_wrong_password_warns_without_showing_it(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, auth_repo: ChartRepo, sandbox_dir: Path
) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    _secret(sandbox_dir, wrong)
    app = _app(write_app, auth_repo.url, ', secret_ref="repo-creds"')
    code = main(["diff", str(app), *DEFS, "-o", "json"])
    out = capsys.readouterr()
    assert code == 1
    assert not set(c["object"] for c in json.loads(out.out)) & CHART_OBJECTS
    warnings = [line for line in out.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "component 'redis'" in warnings[0], out.err
    assert "401" in warnings[0] and f"chart repository {auth_repo.url}" in warnings[0]
    assert wrong not in out.out + out.err and PASSWORD not in out.err


@needs_helm
def test_diff_with_a_missing_secret_names_it(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, auth_repo: ChartRepo, sandbox_dir: Path
) -> None:
    app = _app(write_app, auth_repo.url, ', secret_ref="repo-creds"')
    assert main(["diff", str(app), *DEFS, "--strict"]) == 2  # --strict: an error, as kubectl diff's 2
    err = capsys.readouterr().err
    assert "the Secret web/repo-creds (the chart repository's credentials) does not exist" in err


@needs_helm
def test_no_charts_shows_the_release_alone_and_says_so(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, auth_repo: ChartRepo, sandbox_dir: Path
) -> None:
    app = _app(write_app, auth_repo.url)
    assert main(["render", str(app), *DEFS, "-o", "json", "--no-charts", "--strict"]) == 0
    out = capsys.readouterr()
    listed = json.loads(out.out)
    assert [o["kind"] for o in listed.get("pyvelaHelmReleases", []) + listed["items"]] == ["HelmRelease"]
    assert (
        out.err.strip()
        == "note: component 'redis': HelmRelease web/redis: its chart was not opened (--no-charts)"
    )
    assert auth_repo.seen_auth == []  # helm never asked the repository
    code = main(["diff", str(app), *DEFS, "-o", "json", "--no-charts"])
    out = capsys.readouterr()
    assert code == 1
    assert {c["object"] for c in json.loads(out.out)} == {"Namespace web", "HelmRelease web/redis"}
    assert "its chart was not opened (--no-charts)" in out.err
    assert auth_repo.seen_auth == []


class _Silent:
    """A loopback port that accepts connections and never answers (a black-holed proxy)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[_Silent]:
    server = _Silent()
    yield server
    server.close()


@needs_helm
def test_a_repository_that_never_answers_is_waited_on_once_within_the_limit(
    capsys: pytest.CaptureFixture[str],
    write_app: WriteApp,
    helm_home: str,
    silent: _Silent,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PYVELA_HELM_TEMPLATE_TIMEOUT", "2")
    app = _app(write_app, silent.url, more=SECOND.format(url=silent.url))
    assert main(["render", str(app), *DEFS, "-o", "json"]) == 0
    out = capsys.readouterr()
    listed = json.loads(out.out)
    assert [o["kind"] for o in listed.get("pyvelaHelmReleases", []) + listed["items"]] == ["HelmRelease"] * 2
    warnings = [line for line in out.err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 2, out.err
    assert warnings[0].startswith(
        f"warning: component 'redis': HelmRelease web/redis: cannot open the chart redis-cluster 6.2.7 "
        f"from {silent.url}: no answer within 2s ($PYVELA_HELM_TEMPLATE_TIMEOUT sets the limit)"
    ), warnings[0]
    assert warnings[1].startswith("warning: component 'cache': HelmRelease web/cache: ")
    assert "(not asked again)" in warnings[1]
    assert len(silent.accepted) == 1  # the second release did not wait on the repository again
    assert "Traceback" not in out.err


@needs_helm
def test_strict_makes_an_unopened_chart_an_error(
    capsys: pytest.CaptureFixture[str],
    write_app: WriteApp,
    helm_home: str,
    silent: _Silent,
    monkeypatch: pytest.MonkeyPatch,
    sandbox_dir: Path,
) -> None:
    monkeypatch.setenv("PYVELA_HELM_TEMPLATE_TIMEOUT", "1")
    app = _app(write_app, silent.url)
    assert main(["render", str(app), *DEFS, "--strict"]) == 1
    out = capsys.readouterr()
    assert out.out == ""  # nothing printed: no partial render
    assert "error: component 'redis': the chart was not opened: HelmRelease web/redis: cannot open" in out.err
    assert "--no-charts" in out.err
    assert main(["diff", str(app), *DEFS, "--strict"]) == 2
    assert "the chart was not opened" in capsys.readouterr().err


@needs_helm
def test_the_sandbox_installs_a_chart_from_a_repository_with_credentials(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, auth_repo: ChartRepo, sandbox_dir: Path
) -> None:
    _secret(sandbox_dir, PASSWORD)
    app = _app(write_app, auth_repo.url, ', secret_ref="repo-creds"')
    assert main(["deploy", str(app), *DEFS, "-o", "json"]) == 0, capsys.readouterr().err
    capsys.readouterr()
    code = main(["diff", str(app), *DEFS, "-o", "json"])
    out = capsys.readouterr()
    items = {c["object"]: c["change"] for c in json.loads(out.out)}
    assert code == 0 and set(items) >= CHART_OBJECTS, out.out + out.err
    assert set(items.values()) == {"unchanged"}
    assert PASSWORD not in out.out + out.err
