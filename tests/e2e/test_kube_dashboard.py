"""The dashboard on the real control plane: an app deployed twice through the kube backend is
listed, its page shows the steps, objects and health the API server reports, and the diff of
its last revision says a Secret's value changed without showing either value."""

from __future__ import annotations

import base64
import html
import sys
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from tests.runner_helpers import ops_for
from tests.ui.browser import dashboard

kube, namespace = support.kube, support.namespace  # fixtures

APP = """
from pyvela import Application
from pyvela.stdlib import k8s_objects

CONFIG = {{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "dash-config"}}}}
CONFIG["data"] = {{"level": "{level}"}}
SECRET = {{"apiVersion": "v1", "kind": "Secret", "metadata": {{"name": "dash-db"}}}}
SECRET["stringData"] = {{"password": "{password}"}}
app = Application("dash-app", namespace="{ns}", components=[k8s_objects("objs", objects=(CONFIG, SECRET))])
"""


def test_the_dashboard_of_a_real_cluster(kube: KubeBackend, namespace: str, tmp_path: Path) -> None:
    passwords = ("first-pa55word", "second-pa55word")
    for i, (level, password) in enumerate((("info", passwords[0]), ("debug", passwords[1]))):
        path = tmp_path / f"dash_app_{i}.py"
        path.write_text(APP.format(level=level, password=password, ns=namespace))
        result = ops_for(path, kube).deploy()
        assert result.ok, result.to_dict()
    with dashboard(kube) as url, httpx.Client(base_url=url, timeout=60) as client:
        index = client.get("/")
        assert index.status_code == 200
        assert f'href="/apps/{namespace}/dash-app"' in index.text
        page = client.get(f"/apps/{namespace}/dash-app")
        assert page.status_code == 200, page.text
        text = html.unescape(page.text)
        assert text.count('class="node phase-succeeded"') == 1  # the app's one apply-component step
        assert f"ConfigMap {namespace}/dash-config" in text and f"Secret {namespace}/dash-db" in text
        assert "2/2 ready" in text
        assert "-  level: info" in text and "+  level: debug" in text
        assert "<hidden: changed>" in text
        for secret in (*passwords, *(base64.b64encode(p.encode()).decode() for p in passwords)):
            assert secret not in text
        state = client.get(f"/apps/{namespace}/dash-app/state.json").json()
        assert (state["revision"], state["phase"]) == (2, "succeeded")
    assert ops_for(tmp_path / "dash_app_1.py", kube).delete().phase == "deleted"
