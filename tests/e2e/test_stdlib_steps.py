"""The standard object and config steps on the real control plane, through the in-process runner.

apply-object/read-object round-trip a ConfigMap through the real API server; export2secret's
registry login is a ``kubernetes.io/dockerconfigjson`` Secret the API server validates;
export-service's selector-less Service and Endpoints are accepted as written; clean-jobs deletes
a Job (foreground, through the real garbage collector) and a Pod by label and leaves others;
create/read/list/delete-config write and read KubeVela's config Secret layout. Unique app and
namespace names, so engineers running at once do not collide.
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import test_kube_support as support

from pyvela._backends.kube.backend import KubeBackend
from pyvela._core.objects import ObjectRef
from tests.runner_helpers import ops_for

kube, namespace = support.kube, support.namespace  # fixtures

APP = """
from pyvela import Application
from pyvela.stdlib import *

JOB = {{"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {{"name": "migrate", "labels": {{"workflow.oam.dev/name": "{app}"}}}},
        "spec": {{"template": {{"spec": {{"restartPolicy": "Never",
                  "containers": [{{"name": "c", "image": "registry.example.com/migrate:1"}}]}}}}}}}}
POD = {{"apiVersion": "v1", "kind": "Pod",
        "metadata": {{"name": "scratch", "labels": {{"workflow.oam.dev/name": "{app}"}}}},
        "spec": {{"containers": [{{"name": "c", "image": "registry.example.com/scratch:1"}}]}}}}

app = Application("{app}", namespace="{ns}", components=[], workflow=[
    apply_object("make", value={{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "sizes"}},
                                "data": {{"cpu": "2"}}}}),
    read_object("read", api_version="v1", kind="ConfigMap", name="sizes", namespace="{ns}"),
    export2secret("pull", secret_name="pull", kind="docker-registry",
                  docker_registry=DockerRegistry(username="bot", password="e2e-pw", server="r.example.com")),
    export_service("legacy", name="legacy-db", ip="192.0.2.10", port=5432, target_port=15432),
    apply_object("job", value=JOB),
    apply_object("pod", value=POD),
    clean_jobs("clean"),
    create_config("cfg", name="registry", config={{"url": "https://r.example.com"}}),
    read_config("read-cfg", name="registry"),
    list_config("list-cfg", template="other"),
    delete_config("drop-cfg", name="registry"),
])
"""


def test_object_and_config_steps_on_the_real_api_server(
    kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    name = f"steps-{uuid.uuid4().hex[:6]}"
    path = tmp_path / f"{name}.py"
    path.write_text(APP.format(app=name, ns=namespace))
    # A config vela wrote of another template: list-config must see only its template's.
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": "other-one",
                "namespace": namespace,
                "labels": {"config.oam.dev/catalog": "velacore-config", "config.oam.dev/type": "other"},
                "annotations": {"config.oam.dev/alias": "o", "config.oam.dev/description": "d"},
            },
            "data": {"input-properties": base64.b64encode(b'{"k":"v"}').decode()},
        }
    )
    ops = ops_for(path, kube, defs=["pyvela.stdlib"])
    result = ops.deploy()
    assert result.ok, {n: st["message"] for n, st in result.steps.items() if st["phase"] != "succeeded"}
    steps = result.steps
    assert steps["read"]["outputs"]["value"]["data"] == {"cpu": "2"}
    assert steps["read"]["outputs"]["value"]["metadata"]["uid"]
    assert steps["read-cfg"]["outputs"]["config"] == {"url": "https://r.example.com"}
    assert steps["list-cfg"]["outputs"]["configs"] == [
        {"name": "other-one", "alias": "o", "description": "d", "config": {"k": "v"}}
    ]

    pull = kube.get(ObjectRef("v1", "Secret", namespace, "pull"))
    assert pull is not None and pull["type"] == "kubernetes.io/dockerconfigjson"
    login = json.loads(base64.b64decode(pull["data"][".dockerconfigjson"]))["auths"]["r.example.com"]
    assert base64.b64decode(login["auth"]) == b"bot:e2e-pw"
    service = kube.get(ObjectRef("v1", "Service", namespace, "legacy-db"))
    assert service is not None and not service["spec"].get("selector")
    endpoints = kube.get(ObjectRef("v1", "Endpoints", namespace, "legacy-db"))
    assert endpoints is not None
    assert endpoints["subsets"][0]["addresses"][0]["ip"] == "192.0.2.10"
    assert endpoints["subsets"][0]["ports"][0]["port"] == 15432
    assert kube.get(ObjectRef("batch/v1", "Job", namespace, "migrate")) is None
    assert kube.get(ObjectRef("v1", "Pod", namespace, "scratch")) is None
    assert kube.get(ObjectRef("v1", "Secret", namespace, "registry")) is None  # deleted by delete-config
    assert kube.get(ObjectRef("v1", "Secret", namespace, "other-one")) is not None
    assert "e2e-pw" not in json.dumps(result.to_dict())

    gone = ops_for(path, kube, defs=["pyvela.stdlib"]).delete()
    assert gone.phase == "deleted", gone.message
    for kind, obj in (("ConfigMap", "sizes"), ("Secret", "pull"), ("Service", "legacy-db")):
        assert kube.get(ObjectRef("v1", kind, namespace, obj)) is None, obj


DEPENDANT = """
from pyvela import Application
from pyvela.stdlib import depends_on_app, print_message_in_status

app = Application("{app}", namespace="{ns}", components=[], workflow=[
    depends_on_app("need", name="{base}"),
    print_message_in_status("go", message="base is up"),
])
"""
BASE = """
from pyvela import Application
from pyvela.stdlib import export2config

app = Application("{app}", namespace="{ns}", components=[], workflow=[
    export2config("publish", config_name="{app}-settings", data={{"mode": "fast"}}),
])
"""


def test_depends_on_app_reads_the_other_apps_record_on_the_real_api_server(
    kube: KubeBackend, namespace: str, tmp_path: Path
) -> None:
    base, front = f"base-{uuid.uuid4().hex[:6]}", f"front-{uuid.uuid4().hex[:6]}"
    (tmp_path / "base.py").write_text(BASE.format(app=base, ns=namespace))
    (tmp_path / "front.py").write_text(DEPENDANT.format(app=front, ns=namespace, base=base))
    early = ops_for(tmp_path / "front.py", kube, defs=["pyvela.stdlib"]).deploy()
    assert early.phase == "failed"
    assert f"app {namespace}/{base} is not deployed" in early.steps["need"]["message"]
    assert ops_for(tmp_path / "base.py", kube, defs=["pyvela.stdlib"]).deploy().ok
    later = ops_for(tmp_path / "front.py", kube, defs=["pyvela.stdlib"]).deploy()
    assert later.ok, later.steps["need"]["message"]
    said = [line["message"] for line in later.steps["need"].get("logs") or []]
    assert said == [f"app {namespace}/{base} revision 1 has succeeded"]
