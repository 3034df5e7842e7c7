"""``k8s-objects``: raw objects as a component, the first its workload of whatever kind."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela import Application
from pyvela._app.render import render_app
from pyvela.errors import ParameterError, RenderError
from pyvela.stdlib import k8s_objects, labels
from pyvela.testing import render

CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "1"}}
SVC = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "front"},
    "spec": {"ports": [{"port": 80}]},
}
RAW = 'app = Application("raw", components=[k8s_objects("raw", objects={}){}])'


def _app(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "app.py"
    path.write_text(
        "from pyvela import Application\nfrom pyvela.stdlib import k8s_objects, labels, scaler\n"
        f"CM = {CM!r}\nSVC = {SVC!r}\n{body}\n"
    )
    return path


def test_the_first_object_is_the_workload_and_the_rest_outputs(tmp_path: Path) -> None:
    objs = list(render(_app(tmp_path, RAW.format("(CM, SVC)", ""))))
    assert [(o["kind"], o["metadata"]["name"]) for o in objs] == [
        ("ConfigMap", "settings"),
        ("Service", "front"),
    ]
    assert objs[0]["data"] == {"a": "1"} and objs[0]["metadata"]["labels"]["app.oam.dev/component"] == "raw"


def test_traits_apply_to_the_workload_of_any_kind(tmp_path: Path) -> None:
    [cm] = render(_app(tmp_path, RAW.format("(CM,)", '.with_traits(labels(labels={"t": "v"}))')))
    assert cm["metadata"]["labels"]["t"] == "v"


def test_a_trait_for_other_kinds_is_refused_when_the_kind_is_known(tmp_path: Path) -> None:
    with pytest.raises(RenderError, match="cannot be attached to a ConfigMap"):
        render(_app(tmp_path, RAW.format("(CM,)", ".with_traits(scaler(replicas=2))")))


def test_objects_must_be_objects() -> None:
    with pytest.raises(ParameterError, match="at least one object"):
        k8s_objects("raw", objects=())
    nameless = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}
    with pytest.raises(ParameterError, match=r"objects\[1\]: metadata.name is required"):
        k8s_objects("raw", objects=(CM, nameless))
    with pytest.raises(ParameterError, match=r"objects\[0\]: metadata must be a mapping"):
        k8s_objects("raw", objects=({"apiVersion": "v1", "kind": "ConfigMap", "metadata": "x"},))
    assert Application("raw", components=[k8s_objects("raw", objects=(CM,)).with_traits(labels(labels={}))])


def test_a_nameless_workload_is_named_after_its_component() -> None:
    # KubeVela's renderer names a workload without metadata.name after the component.
    app = Application(
        "raw",
        components=[
            k8s_objects("settings", objects=({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}},))
        ],
    )
    [cm] = render_app(app)[0].objects
    assert cm.object["metadata"]["name"] == "settings" and cm.object["data"] == {"a": "b"}
