"""The standard object steps (apply-object, read-object, export2config, export2secret, export-data,
export-service, clean-jobs) run by the real runner on the sandbox, and their parameters' checks.

They follow KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/<name>.cue.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela import stdlib as s
from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import ObjectRef
from pyvela.errors import ParameterError
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]
HEADER = """
from pyvela import Application
from pyvela.stdlib import *
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def deploy(write_app: WriteApp, box: Sandbox, body: str) -> Any:
    result = ops_for(write_app(HEADER + body), box).deploy()
    return result


def get(box: Sandbox, kind: str, name: str, ns: str = "objs", api: str = "v1") -> dict[str, Any]:
    live = box.get(ObjectRef(api, kind, ns, name))
    assert live is not None, f"{kind} {ns}/{name} is missing"
    return live


def test_apply_then_read_an_object(write_app: WriteApp, box: Sandbox) -> None:
    result = deploy(
        write_app,
        box,
        """
cm = apply_object("make", value={"apiVersion": "v1", "kind": "ConfigMap",
                                 "metadata": {"name": "sizes"}, "data": {"cpu": "2"}})
read = read_object("read", api_version="v1", kind="ConfigMap", name="sizes", namespace="objs")
app = Application("objs", namespace="objs", components=[], workflow=[
    cm, read, export2config("copy", config_name="copied", data=read.outputs.value)])
""",
    )
    # An output is passed whole: a ConfigMap object is not the string map ``data`` expects.
    assert result.phase == "failed", result.to_dict()
    assert "has the wrong type" in result.steps["copy"]["message"]
    live = get(box, "ConfigMap", "sizes")
    assert live["data"] == {"cpu": "2"}
    assert live["metadata"]["labels"]["app.oam.dev/name"] == "objs"  # the app's object
    assert result.steps["read"]["outputs"]["value"]["data"] == {"cpu": "2"}
    assert result.steps["make"]["outputs"]["value"]["metadata"]["uid"]  # the live object


def test_read_object_takes_names_of_any_kind() -> None:
    # RBAC objects are named with ':' (system:aggregate-to-view): not a DNS name, still an object.
    use = s.read_object(
        "r", api_version="rbac.authorization.k8s.io/v1", kind="ClusterRole", name="system:view"
    )
    assert use.params.name == "system:view"


def test_read_object_of_a_missing_object_fails_clearly(write_app: WriteApp, box: Sandbox) -> None:
    result = deploy(
        write_app,
        box,
        """
app = Application("objs", namespace="objs", components=[], workflow=[
    read_object("read", api_version="v1", kind="ConfigMap", name="nope", namespace="objs")])
""",
    )
    assert result.phase == "failed"
    assert "ConfigMap objs/nope does not exist" in result.steps["read"]["message"]


def test_a_secret_read_or_applied_is_output_without_its_values(write_app: WriteApp, box: Sandbox) -> None:
    result = deploy(
        write_app,
        box,
        """
app = Application("objs", namespace="objs", components=[], workflow=[
    apply_object("make", value={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "tok"},
                                "stringData": {"token": "hunter2-very-secret"}}),
    read_object("read", api_version="v1", kind="Secret", name="tok", namespace="objs")])
""",
    )
    assert result.ok, result.to_dict()
    for step in ("make", "read"):
        value = result.steps[step]["outputs"]["value"]
        assert value["data"] == {"token": "***"}
        assert "hunter2" not in json.dumps(value) and "stringData" not in value
    assert base64.b64decode(get(box, "Secret", "tok")["data"]["token"]) == b"hunter2-very-secret"


def test_export2config_export2secret_and_export_data(write_app: WriteApp, box: Sandbox) -> None:
    result = deploy(
        write_app,
        box,
        """
app = Application("objs", namespace="objs", components=[], workflow=[
    export2config("cm", config_name="app-settings", data={"mode": "fast"}),
    export2secret("plain", secret_name="plain", data={"k": "v"}, type="example.com/plain"),
    export2secret("registry", secret_name="pull", kind="docker-registry",
                  docker_registry=DockerRegistry(username="bot", password="pw-123", server="r.example.com")),
    export_data("data-cm", data={"host": "db.internal"}),
    export_data("data-secret", name="shared", namespace="objs", kind="Secret", data={"pw": "x"}),
])
""",
    )
    assert result.ok, result.to_dict()
    assert get(box, "ConfigMap", "app-settings")["data"] == {"mode": "fast"}
    plain = get(box, "Secret", "plain")
    assert plain["type"] == "example.com/plain" and base64.b64decode(plain["data"]["k"]) == b"v"
    pull = get(box, "Secret", "pull")
    assert pull["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(pull["data"][".dockerconfigjson"]))
    login = config["auths"]["r.example.com"]
    assert list(login) == ["username", "password", "auth"]  # KubeVela's field order
    assert base64.b64decode(login["auth"]) == b"bot:pw-123"
    assert get(box, "ConfigMap", "objs")["data"] == {"host": "db.internal"}  # the app's name by default
    assert base64.b64decode(get(box, "Secret", "shared")["data"]["pw"]) == b"x"


def test_docker_registry_login_json_is_compact_as_go_writes_it() -> None:
    text = s.steps_objects.docker_config(s.DockerRegistry(username="u", password="p"))
    assert text == ('{"auths":{"https://index.docker.io/v1/":{"username":"u","password":"p","auth":"dTpw"}}}')
    assert "pw-secret" not in repr(s.DockerRegistry(username="u", password="pw-secret"))


def test_export_service_points_a_selectorless_service_at_an_address(
    write_app: WriteApp, box: Sandbox
) -> None:
    result = deploy(
        write_app,
        box,
        """
app = Application("objs", namespace="objs", components=[], workflow=[
    export_service("svc", name="legacy-db", ip="192.0.2.10", port=5432, target_port=15432)])
""",
    )
    assert result.ok, result.to_dict()
    service = get(box, "Service", "legacy-db")
    assert "selector" not in service["spec"] and service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"][0]["port"] == 5432
    assert service["spec"]["ports"][0]["targetPort"] == 15432
    endpoints = get(box, "Endpoints", "legacy-db")
    assert endpoints["subsets"] == [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"port": 15432}]}]


JOB = """{{"apiVersion": "batch/v1", "kind": "Job", "metadata": {{"name": "{name}", "labels": {labels}}},
  "spec": {{"template": {{"spec": {{"restartPolicy": "Never",
    "containers": [{{"name": "c", "image": "busybox"}}]}}}}}}}}"""
POD = """{{"apiVersion": "v1", "kind": "Pod", "metadata": {{"name": "{name}", "labels": {labels}}},
  "spec": {{"containers": [{{"name": "c", "image": "busybox"}}]}}}}"""


def test_clean_jobs_deletes_the_labelled_jobs_and_pods_only(write_app: WriteApp, box: Sandbox) -> None:
    mine, other = '{"workflow.oam.dev/name": "objs"}', '{"team": "b"}'
    result = deploy(
        write_app,
        box,
        f"""
app = Application("objs", namespace="objs", components=[], workflow=[
    apply_object("j1", value={JOB.format(name="migrate", labels=mine)}),
    apply_object("j2", value={JOB.format(name="keep", labels=other)}),
    apply_object("p1", value={POD.format(name="scratch", labels=mine)}),
    clean_jobs("clean"),
    clean_jobs("clean-b", labelselector={{"team": "b"}}, namespace="objs").after("clean"),
])
""",
    )
    assert result.ok, result.to_dict()
    for kind, name, api in (
        ("Job", "migrate", "batch/v1"),
        ("Pod", "scratch", "v1"),
        ("Job", "keep", "batch/v1"),
    ):
        assert box.get(ObjectRef(api, kind, "objs", name)) is None, name
    said = [line["message"] for line in result.steps["clean"].get("logs") or []]
    assert said == ["deleted 1 Job(s) and 1 Pod(s) labelled workflow.oam.dev/name=objs in objs"]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: s.apply_object("a", value={"kind": "ConfigMap"}), "apiVersion and kind are required"),
        (lambda: s.apply_object("a", value={"apiVersion": "v1", "kind": "X"}), "metadata.name is required"),
        (
            lambda: s.apply_object(
                "a", value={"apiVersion": "v1", "kind": "X", "metadata": {"name": "x"}}, cluster="east/1"
            ),
            "is not a cluster's name",
        ),
        (lambda: s.apply_object("a", value=[1]), "value"),  # type: ignore[arg-type]
        (lambda: s.read_object("r", name="a/b"), "cannot name an object"),
        (lambda: s.read_object("r", name=""), "cannot name an object"),
        (lambda: s.read_object("r", name="x", cluster=" other"), "is not a cluster's name"),
        (lambda: s.read_object("r"), "name"),  # type: ignore[call-arg]
        (lambda: s.read_object("r", name="x", kind=3), "kind"),  # type: ignore[arg-type]
        (lambda: s.export2config("e", config_name="c", data={"a": 1}), "data"),  # type: ignore[dict-item]
        (
            lambda: s.export2config("e", config_name="c", data={"a b": "1"}),
            "not a valid ConfigMap/Secret key",
        ),
        (lambda: s.export2config("e", config_name="C", data={}), "is not a Kubernetes name"),
        (lambda: s.export2config("e", config_name="c", data={}, cluster="x/y"), "not a cluster's name"),
        (lambda: s.export2secret("e", secret_name="s", kind="tls"), "kind"),  # type: ignore[arg-type]
        (
            lambda: s.export2secret(
                "e", secret_name="s", docker_registry=s.DockerRegistry(username="u", password="p")
            ),
            'docker_registry is used only with kind="docker-registry"',
        ),
        (
            lambda: s.export2secret(
                "e",
                secret_name="s",
                docker_registry=s.DockerRegistry(username=1, password="p"),  # type: ignore[arg-type]
            ),
            "username",
        ),
        (lambda: s.export_data("e", data={}, topology=" "), "name one of the app's topology policies"),
        (lambda: s.export_data("e", data={}, kind="Pod"), "kind"),  # type: ignore[arg-type]
        (lambda: s.export_service("e", ip="db.example.com", port=1, target_port=2), "is not an IP address"),
        (lambda: s.export_service("e", ip="10.0.0.1", port=0, target_port=2), "port 0 is not a port"),
        (lambda: s.export_service("e", ip="10.0.0.1", port=1, target_port=70000), "target_port 70000"),
        (lambda: s.export_service("e", ip="10.0.0.1", port=1, target_port=2, topology=""), "topology"),
        (lambda: s.clean_jobs("c", labelselector={}), "at least one label"),
        (lambda: s.clean_jobs("c", labelselector={"a": 1}), "labelselector"),  # type: ignore[dict-item]
    ],
)
def test_parameters_are_checked_at_the_call_site(make: Callable[[], Any], words: str) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    assert words in str(err.value)
    assert "test_steps_objects.py" in str(err.value.where)
