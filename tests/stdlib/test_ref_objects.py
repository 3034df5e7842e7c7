"""``ref-objects``: objects read from the target cluster when the component is applied, and a
clear error where there is no cluster (an offline render).

Follows KubeVela v1.10.1 vela-templates/definitions/internal/component/ref-objects.cue and
pkg/component/ref_objects.go (what is stripped from an object read, name defaults, selectors).
"""

from __future__ import annotations

import http.server
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from pyvela import ObjectRef
from pyvela._app.loader import load_app
from pyvela._app.render import render_app
from pyvela._backends.sandbox import Sandbox
from pyvela._cli.diff import diff_app
from pyvela._core.reads import reading
from pyvela.errors import ParameterError, RenderError
from pyvela.stdlib import ObjectSelector, ref_objects
from tests.runner_helpers import ops_for, sandbox

WriteApp = Callable[..., Path]

APP = """
from pyvela import Application
from pyvela.stdlib import ObjectSelector, ref_objects

copied = ref_objects(
    "copied",
    objects=(
        ObjectSelector(resource="configmap", name="settings", namespace="source"),
        ObjectSelector(resource="secrets", label_selector={"shared": "yes"}, namespace="source"),
        ObjectSelector(resource="svc", group="", name="front", namespace="source"),
    ),
)
app = Application("refs", namespace="refs-target", components=[copied])
"""


def _seed(box: Sandbox) -> None:
    box.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "source"}})
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", "namespace": "source", "labels": {"team": "ops"}},
            "data": {"mode": "blue"},
        }
    )
    for name in ("token-b", "token-a", "unrelated"):
        box.apply(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": name,
                    "namespace": "source",
                    "labels": {"shared": "no" if name == "unrelated" else "yes"},
                },
                "stringData": {"token": name},
            }
        )
    box.apply(
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "front", "namespace": "source"},
            "spec": {"selector": {"app": "front"}, "ports": [{"port": 80}]},
        }
    )


def test_an_offline_render_says_it_needs_a_cluster(write_app: WriteApp) -> None:
    loaded = load_app(write_app(APP))
    with pytest.raises(RenderError) as err:
        render_app(loaded.app)
    text = str(err.value)
    assert "ref-objects reads the cluster" in text and "use deploy or diff" in text
    assert err.value.context["component"] == "copied"


def test_the_render_command_gives_one_message_and_exit_1(write_app: WriteApp) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pyvela", "render", str(write_app(APP))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "ref-objects reads the cluster" in proc.stderr and "use deploy or diff" in proc.stderr


def test_the_objects_read_are_rendered_without_what_the_server_owns(
    write_app: WriteApp, tmp_path: Path
) -> None:
    box = sandbox(tmp_path / "sb")
    _seed(box)
    loaded = load_app(write_app(APP))
    with reading(box):
        [rc] = render_app(loaded.app)
    objects = [ro.object for ro in rc.objects]
    assert [(o["kind"], o["metadata"]["name"]) for o in objects] == [
        ("ConfigMap", "settings"),
        ("Secret", "token-a"),  # a label selector's objects by name, as listed
        ("Secret", "token-b"),
        ("Service", "front"),
    ]
    assert [ro.output for ro in rc.objects] == [None, "objects-1", "objects-2", "objects-3"]
    for obj in objects:
        meta = obj["metadata"]
        assert meta["namespace"] == "source"  # KubeVela keeps the namespace it read from
        assert not {"uid", "resourceVersion", "creationTimestamp", "managedFields", "generation"} & set(meta)
        assert "status" not in obj
    assert objects[0]["data"] == {"mode": "blue"} and objects[0]["metadata"]["labels"]["team"] == "ops"
    assert "clusterIP" not in objects[3]["spec"] and "clusterIPs" not in objects[3]["spec"]
    assert objects[3]["spec"]["ports"][0]["port"] == 80


def test_deploy_reads_the_cluster_and_keeps_the_ownership_rule(write_app: WriteApp, tmp_path: Path) -> None:
    box = sandbox(tmp_path / "sb")
    _seed(box)
    result = ops_for(write_app(APP), box).deploy()
    # The objects read exist and belong to no app: applying them would take them over,
    # which pyvela never does silently (KubeVela's take-over policy), so the deploy says so.
    assert not result.ok
    message = str(result.steps["copied"])
    assert "ConfigMap source/settings" in message and "owned" in message, message
    assert "reads the cluster" not in message


def test_diff_renders_against_the_cluster(write_app: WriteApp, tmp_path: Path) -> None:
    box = sandbox(tmp_path / "sb")
    _seed(box)
    loaded = load_app(write_app(APP))
    out = diff_app(loaded, box)
    assert "settings" in str(out)


def test_a_missing_object_is_named(write_app: WriteApp, tmp_path: Path) -> None:
    box = sandbox(tmp_path / "sb")
    loaded = load_app(write_app(APP))
    with reading(box), pytest.raises(RenderError, match="ConfigMap source/settings does not exist"):
        render_app(loaded.app)


def test_a_label_selector_matching_nothing_is_an_error(write_app: WriteApp, tmp_path: Path) -> None:
    box = sandbox(tmp_path / "sb")
    loaded = load_app(
        write_app(
            """
            from pyvela import Application
            from pyvela.stdlib import ObjectSelector, ref_objects
            app = Application("refs", components=[
                ref_objects("none", objects=(ObjectSelector(resource="secret", label_selector={"x": "y"}),)),
            ])
            """
        )
    )
    with reading(box), pytest.raises(RenderError, match="no object matched"):
        render_app(loaded.app)


@pytest.mark.parametrize(
    ("selector", "words"),
    [
        ({"resource": "secret", "name": "a", "label_selector": {"a": "b"}}, "cannot both be set"),
        ({"name": "a"}, "give resource"),
        ({"resource": "gadgets"}, "unknown resource 'gadgets'"),
        ({"resource": "deployments", "group": "batch"}, "in group 'batch'"),
        ({"resource": "secret", "cluster": "hangzhou"}, "only the target cluster"),
    ],
)
def test_selectors_are_checked_at_the_call_site(selector: dict[str, Any], words: str) -> None:
    with pytest.raises(ParameterError, match=words):
        ref_objects("c", objects=(ObjectSelector(**selector),))


def test_no_objects_and_odd_urls_are_refused() -> None:
    with pytest.raises(ParameterError, match="at least one selector or URL"):
        ref_objects("c")
    with pytest.raises(ParameterError, match="not an http or https URL"):
        ref_objects("c", urls=("file:///etc/passwd",))


class _Files(http.server.BaseHTTPRequestHandler):
    FILES: ClassVar[dict[str, tuple[int, str]]] = {
        "/app.yaml": (
            200,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-url}\ndata: {a: b}\n---\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: source}\n"
            "data: {mode: url}\n",
        ),
        "/broken.yaml": (200, "apiVersion: v1\nkind: Secret\ndata: {token: c2VjcmV0}\n"),
        "/gone.yaml": (404, "not here"),
    }

    def do_GET(self) -> None:
        code, body = self.FILES.get(self.path, (404, ""))
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def files() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _with_urls(write_app: WriteApp, *urls: str, objects: str = "") -> Any:
    return load_app(
        write_app(
            f"""
            from pyvela import Application
            from pyvela.stdlib import ObjectSelector, ref_objects
            app = Application("refs", namespace="refs-target", components=[
                ref_objects("copied", objects=({objects}), urls={urls!r}),
            ])
            """
        )
    )


def test_urls_objects_follow_the_selected_ones_and_replace_the_same_object(
    write_app: WriteApp, tmp_path: Path, files: str
) -> None:
    box = sandbox(tmp_path / "sb")
    _seed(box)
    loaded = _with_urls(
        write_app,
        f"{files}/app.yaml",
        objects='ObjectSelector(resource="cm", name="settings", namespace="source"),',
    )
    with reading(box):
        [rc] = render_app(loaded.app)
    objects = [ro.object for ro in rc.objects]
    # settings was selected first, then the file's copy replaced it in place (KubeVela's order)
    assert [(o["metadata"]["name"], o["data"]) for o in objects] == [
        ("settings", {"mode": "url"}),
        ("from-url", {"a": "b"}),
    ]
    assert objects[1]["metadata"]["annotations"]["app.oam.dev/resource-url"] == f"{files}/app.yaml"
    assert objects[1]["metadata"]["namespace"] == "refs-target"  # none in the file: the app's


def test_a_bad_url_or_file_is_one_clear_error(write_app: WriteApp, tmp_path: Path, files: str) -> None:
    box = sandbox(tmp_path / "sb")
    for path, words in (
        ("/gone.yaml", "answered 404"),
        ("/broken.yaml", "document 1 is not a Kubernetes object"),
    ):
        with reading(box), pytest.raises(RenderError, match=words) as err:
            render_app(_with_urls(write_app, files + path).app)
        assert "c2VjcmV0" not in str(err.value)  # the file's values are never shown
        assert err.value.context["parameter"] == "urls[0]"
    with reading(box), pytest.raises(RenderError, match=re.escape("cannot read http://127.0.0.1:9/")):
        render_app(_with_urls(write_app, "http://127.0.0.1:9/x.yaml").app)


def test_urls_need_a_cluster_too(write_app: WriteApp, files: str) -> None:
    with pytest.raises(RenderError, match="ref-objects reads the cluster"):
        render_app(_with_urls(write_app, f"{files}/app.yaml").app)


def test_resource_names_resolve_as_kubectl_does() -> None:
    for resource, group in (("deploy", None), ("deployments", "apps"), ("Deployment", None)):
        sel = ObjectSelector(resource=resource, group=group)
        assert sel.resolved() == ("apps/v1", "Deployment", True)
    assert ObjectSelector(resource="clusterroles").resolved() == (
        "rbac.authorization.k8s.io/v1",
        "ClusterRole",
        False,
    )
    assert ObjectRef  # the reads go through ObjectRefs


def test_golden(write_app: WriteApp, tmp_path: Path) -> None:
    """The objects ref-objects renders from what the sandbox holds (tests/stdlib/golden/ref_objects.yaml)."""
    from stdlib_support import GOLDEN

    from pyvela.testing import assert_golden

    box = sandbox(tmp_path / "sb")
    _seed(box)
    with reading(box):
        assert_golden(load_app(write_app(APP)), GOLDEN / "ref_objects.yaml")
