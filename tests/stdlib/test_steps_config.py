"""The config steps (create-config, read-config, list-config, delete-config) on the sandbox through
the real runner: the Secrets they write are laid out as KubeVela v1.10.1's config factory
(pkg/config/factory.go) writes them, and they read configs written that way by someone else.
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
from pyvela.stdlib import create_config, delete_config, list_config, read_config
"""


@pytest.fixture
def box(tmp_path: Path) -> Iterator[Sandbox]:
    sb = sandbox(tmp_path / "sb")
    yield sb
    sb.close()


def run(write_app: WriteApp, box: Sandbox, steps: str, name: str = "app.py") -> Any:
    source = HEADER + f'app = Application("cfg", namespace="conf", components=[], workflow=[{steps}])\n'
    return ops_for(write_app(source, name), box).deploy()


def vela_config(name: str, template: str, properties: dict[str, Any], **annotations: str) -> dict[str, Any]:
    """A config as ``vela config create`` writes it (not owned by any pyvela app)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": "conf",
            "labels": {"config.oam.dev/catalog": "velacore-config", "config.oam.dev/type": template},
            "annotations": {
                "config.oam.dev/alias": f"{name} alias",
                "config.oam.dev/description": "",
                **annotations,
            },
        },
        "data": {"input-properties": base64.b64encode(json.dumps(properties).encode()).decode()},
    }


def test_create_read_and_delete_a_config_in_kubevela_layout(write_app: WriteApp, box: Sandbox) -> None:
    result = run(
        write_app,
        box,
        """
    create_config("create", name="registry", config={"url": "https://r.example.com", "insecure": False}),
    read_config("read", name="registry"),
""",
    )
    assert result.ok, result.to_dict()
    assert result.steps["read"]["outputs"]["config"] == {"url": "https://r.example.com", "insecure": False}
    live = box.get(ObjectRef("v1", "Secret", "conf", "registry"))
    assert live is not None
    labels, notes = live["metadata"]["labels"], live["metadata"]["annotations"]
    assert labels["config.oam.dev/catalog"] == "velacore-config" and labels["config.oam.dev/type"] == ""
    assert notes["config.oam.dev/alias"] == "" and notes["config.oam.dev/description"] == ""
    raw = base64.b64decode(live["data"]["input-properties"]).decode()
    assert raw == '{"insecure":false,"url":"https://r.example.com"}'  # compact, sorted: as Go writes a map

    gone = run(write_app, box, '\n    delete_config("delete", name="registry"),\n', "delete.py")
    assert gone.ok, gone.to_dict()
    assert box.get(ObjectRef("v1", "Secret", "conf", "registry")) is None


def test_list_config_reads_configs_vela_wrote_and_hides_sensitive_ones(
    write_app: WriteApp, box: Sandbox
) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "conf"}})
    box.apply(vela_config("b-server", "prometheus-server", {"url": "http://b:9090"}))
    box.apply(vela_config("a-server", "prometheus-server", {"url": "http://a:9090"}))
    box.apply(
        vela_config(
            "hidden", "prometheus-server", {"token": "t0ps3cret"}, **{"config.oam.dev/sensitive": "true"}
        )
    )
    box.apply(vela_config("other", "helm-repository", {"url": "http://charts"}))
    result = run(
        write_app,
        box,
        """
    list_config("list", template="vela-system/prometheus-server"),
    read_config("read", name="a-server"),
    read_config("secret", name="hidden").after("read"),
""",
    )
    configs = result.steps["list"]["outputs"]["configs"]
    assert [c["name"] for c in configs] == ["a-server", "b-server", "hidden"]
    assert configs[0] == {
        "name": "a-server",
        "alias": "a-server alias",
        "description": "",
        "config": {"url": "http://a:9090"},
    }
    assert configs[2]["config"] is None
    assert result.steps["read"]["outputs"]["config"] == {"url": "http://a:9090"}
    assert result.steps["secret"]["phase"] == "failed"
    assert "is sensitive" in result.steps["secret"]["message"]
    assert "t0ps3cret" not in json.dumps(result.to_dict())


def test_a_template_that_only_declares_parameters_is_honoured(write_app: WriteApp, box: Sandbox) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "vela-system"}})
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "config-template-endpoint",
                "namespace": "vela-system",
                "labels": {"config.oam.dev/catalog": "velacore-config", "config.oam.dev/scope": "project"},
                "annotations": {"config.oam.dev/sensitive": "false"},
            },
            "data": {
                "template": 'metadata: name: "endpoint"\n'
                "template: {\n  parameter: {\n    url: string\n  }\n}\n"
            },
        }
    )
    result = run(
        write_app, box, '\n    create_config("c", name="ep", template="endpoint", config={"url": "u"}),\n'
    )
    assert result.ok, result.to_dict()
    live = box.get(ObjectRef("v1", "Secret", "conf", "ep"))
    assert live is not None
    assert live["metadata"]["labels"] == {
        "config.oam.dev/catalog": "velacore-config",
        "config.oam.dev/type": "endpoint",
        "config.oam.dev/scope": "project",
        "app.oam.dev/name": "cfg",
        "app.kubernetes.io/managed-by": "pyvela",
    }
    assert live["metadata"]["annotations"]["config.oam.dev/template-namespace"] == "vela-system"
    assert live["type"] == "/endpoint"

    changed = run(write_app, box, '\n    create_config("c", name="ep", config={"url": "v"}),\n', "again.py")
    assert changed.phase == "failed"
    assert "the template of a config cannot be changed" in changed.steps["c"]["message"]


def test_templates_pyvela_cannot_evaluate_or_cannot_find_are_refused(
    write_app: WriteApp, box: Sandbox
) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ops"}})
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "config-template-registry", "namespace": "ops"},
            "data": {
                "template": 'template: {\n  output: {\n    type: "kubernetes.io/dockerconfigjson"\n  }\n}\n'
            },
        }
    )
    result = run(
        write_app,
        box,
        """
    create_config("cue", name="r", template="ops/registry", config={}),
    create_config("missing", name="m", template="nope", config={}).when("always"),
""",
    )
    assert result.phase == "failed"
    assert "is not supported, because it renders an output" in result.steps["cue"]["message"]
    assert "config template vela-system/nope does not exist" in result.steps["missing"]["message"]
    assert box.get(ObjectRef("v1", "Secret", "conf", "r")) is None


def test_read_and_delete_refuse_what_is_not_a_config(write_app: WriteApp, box: Sandbox) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "conf"}})
    box.apply(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "plain", "namespace": "conf"}, "data": {}}
    )
    result = run(
        write_app,
        box,
        """
    read_config("read", name="plain"),
    delete_config("delete", name="plain").when("always"),
    read_config("absent", name="nothing").when("always"),
    delete_config("absent-delete", name="nothing").when("always"),
""",
    )
    steps = result.steps
    assert "is not a config: it has no input-properties" in steps["read"]["message"]
    assert "is not a config (no label config.oam.dev/catalog=velacore-config)" in steps["delete"]["message"]
    assert "config conf/nothing does not exist" in steps["absent"]["message"]
    assert steps["absent-delete"]["phase"] == "succeeded"  # a resumed delete finds it gone
    said = [line["message"] for line in steps["absent-delete"].get("logs") or []]
    assert said == ["config conf/nothing does not exist: nothing to delete"]
    assert box.get(ObjectRef("v1", "Secret", "conf", "plain")) is not None


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: s.create_config("c", name="Bad", config={}), "is not a Kubernetes name"),
        (lambda: s.create_config("c", name="a", config={}, template="ns/"), "names no template"),
        (lambda: s.create_config("c", name="a", config=[]), "config"),  # type: ignore[arg-type]
        (lambda: s.create_config("c", name="a"), "config"),  # type: ignore[call-arg]
        (lambda: s.read_config("r", name="a", namespace=1), "namespace"),  # type: ignore[arg-type]
        (lambda: s.read_config("r", name="a_b"), "is not a Kubernetes name"),
        (lambda: s.list_config("l", template=""), "names no template"),
        (lambda: s.list_config("l"), "template"),  # type: ignore[call-arg]
        (lambda: s.delete_config("d", name="UPPER"), "is not a Kubernetes name"),
    ],
)
def test_parameters_are_checked_at_the_call_site(make: Callable[[], Any], words: str) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    assert words in str(err.value)
