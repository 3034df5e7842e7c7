"""The standard ``request`` and ``webhook`` steps, run through the real runner on the sandbox
against a loopback HTTP server (tests/stdlib/outbound_servers.py).

They follow KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/request.cue and
webhook.cue.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pyvela import stdlib as s
from pyvela._workflow.events import Recorder
from pyvela._workflow.results import RunResult
from pyvela.errors import ParameterError
from tests.runner_helpers import ops_for, sandbox
from tests.stdlib.outbound_servers import TOKEN, Hooks, everything, plant_secret, running_hooks

WriteApp = Callable[..., Path]


@pytest.fixture
def hooks() -> Iterator[Hooks]:
    with running_hooks() as running:
        yield running


def deploy(write_app: WriteApp, tmp_path: Path, source: str, *, setup: Any = None) -> tuple[RunResult, str]:
    """Deploy ``source`` on a fresh sandbox; returns the result and everything the run showed
    or stored (events, the result as JSON, the decoded state record) as one text to grep."""
    box = sandbox(tmp_path / "sb")
    try:
        if setup is not None:
            setup(box)
        events = Recorder()
        path = write_app(source)
        result = ops_for(path, box, events=events).deploy()
        text = everything(box, events, result, app=path.read_text().split('Application("')[1].split('"')[0])
        return result, text
    finally:
        box.close()


def test_request_get_returns_the_answer_as_kubevela_does(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    result, _ = deploy(
        write_app,
        tmp_path,
        f"""
        from pyvela import Application
        from pyvela.stdlib import request
        app = Application("req", components=[], workflow=[request("stars", url="{hooks.base}/api/repo")])
        """,
    )
    assert result.ok, result.message
    out = result.steps["stars"]["outputs"]
    assert out["response"]["stargazers_count"] == 42  # the body, parsed (KubeVela's `response`)
    assert out["status_code"] == 200
    assert json.loads(out["body"])["method"] == "GET"
    assert out["header"]["content-type"] == "application/json"
    assert [s.method for s in hooks.to("/api/repo")] == ["GET"]


def test_request_post_sends_the_body_and_headers(write_app: WriteApp, tmp_path: Path, hooks: Hooks) -> None:
    result, _ = deploy(
        write_app,
        tmp_path,
        f"""
        from pyvela import Application
        from pyvela.stdlib import request
        app = Application("req", components=[], workflow=[
            request("create", url="{hooks.base}/api/repo", method="POST",
                    body={{"name": "demo", "tags": ["a", "b"]}}, header={{"X-Team": "ops"}}),
        ])
        """,
    )
    assert result.ok, result.message
    (seen,) = hooks.to("/api/repo")
    assert seen.method == "POST" and seen.body == {"name": "demo", "tags": ["a", "b"]}
    assert seen.headers["X-Team"] == "ops" and seen.headers["Content-Type"] == "application/json"
    assert result.steps["create"]["outputs"]["response"]["got"] == {"name": "demo", "tags": ["a", "b"]}


def test_request_of_a_body_that_is_not_json_keeps_the_text(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    result, _ = deploy(
        write_app,
        tmp_path,
        f"""
        from pyvela import Application
        from pyvela.stdlib import request
        app = Application("req", components=[], workflow=[request("t", url="{hooks.base}/api/text")])
        """,
    )
    assert result.ok, result.message
    out = result.steps["t"]["outputs"]
    assert out["response"] is None and out["body"] == "plain words"


@pytest.mark.parametrize("status", [400, 404])
def test_request_fails_on_a_client_error_with_status_and_excerpt(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks, status: int
) -> None:
    result, _ = deploy(
        write_app,
        tmp_path,
        f"""
        from pyvela import Application
        from pyvela.stdlib import request
        app = Application("req", components=[], workflow=[
            request("bad", url="{hooks.base}/api/status/{status}"),
        ])
        """,
    )
    assert not result.ok
    message = result.steps["bad"]["message"]
    assert f"failed: {status}" in message and "no such thing" in message
    assert "x" * 250 not in message  # an excerpt, not the whole body


def test_request_retries_a_server_error_then_fails_with_it(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    hooks.failures = [(503, "busy, try later")] * 20
    result, _ = deploy(
        write_app,
        tmp_path,
        f"""
        from pyvela import Application
        from pyvela.stdlib import request
        app = Application("req", components=[], workflow=[request("busy", url="{hooks.base}/api/repo")])
        """,
    )
    assert not result.ok
    message = result.steps["busy"]["message"]
    assert "answered 503: busy, try later" in message and "attempt" in message
    assert 1 < len(hooks.to("/api/repo")) < 20  # the runner's one retry policy, bounded


def test_webhook_posts_the_application_by_default(write_app: WriteApp, tmp_path: Path, hooks: Hooks) -> None:
    result, _ = deploy(
        write_app,
        tmp_path,
        f"""
        from pyvela import Application
        from pyvela.stdlib import SecretOrValue, webhook, webservice
        app = Application("hooked", components=[webservice("web", image="nginx:1.27", port=80)],
            workflow=[webhook("tell", url=SecretOrValue(value="{hooks.hook_url()}"))])
        """,
    )
    assert result.ok, result.message
    (seen,) = hooks.to("/hook/")
    assert seen.method == "POST" and seen.headers["Content-Type"] == "application/json"
    body = seen.body
    assert (body["apiVersion"], body["kind"]) == ("core.oam.dev/v1beta1", "Application")
    assert body["metadata"] == {"name": "hooked", "namespace": "default"}
    (component,) = body["spec"]["components"]
    assert component["name"] == "web"
    assert component["properties"]["image"] == "nginx:1.27" and component["properties"]["port"] == 80
    assert (
        "imagePullPolicy" in component["properties"] or "exposeType" in component["properties"]
    )  # camelCase


def test_webhook_from_a_secret_sends_data_and_never_shows_the_token(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    result, text = deploy(
        write_app,
        tmp_path,
        """
        from pyvela import Application
        from pyvela.stdlib import SecretOrValue, SecretRef, webhook
        app = Application("hooked", components=[], workflow=[
            webhook("tell", url=SecretOrValue(secret_ref=SecretRef(name="hooks", key="url")),
                    data={"event": "deployed", "ok": True}),
        ])
        """,
        setup=lambda box: plant_secret(box, "hooks", url=hooks.hook_url() + "\n"),
    )
    assert result.ok, result.message
    (seen,) = hooks.to("/hook/")
    assert seen.path == f"/hook/{TOKEN}" and seen.body == {"event": "deployed", "ok": True}
    assert TOKEN not in text
    assert "POST http://127.0.0.1:" in text  # the journal names the host, not the path


def test_webhook_failure_is_reported_without_the_token(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    # The server echoes the path, token and all: the error must not.
    hooks.failures = [(403, f"forbidden: no hook /hook/{TOKEN} for you")]
    result, text = deploy(
        write_app,
        tmp_path,
        """
        from pyvela import Application
        from pyvela.stdlib import SecretOrValue, SecretRef, webhook
        app = Application("hooked", components=[], workflow=[
            webhook("tell", url=SecretOrValue(secret_ref=SecretRef(name="hooks", key="url")), data={"a": 1}),
        ])
        """,
        setup=lambda box: plant_secret(box, "hooks", url=hooks.hook_url()),
    )
    assert not result.ok
    message = result.steps["tell"]["message"]
    assert "answered 403: forbidden: no hook" in message and "***" in message
    assert TOKEN not in text


def test_webhook_server_errors_are_retried_and_scrubbed(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    hooks.failures = [(500, f"boom at /hook/{TOKEN}")] * 20
    result, text = deploy(
        write_app,
        tmp_path,
        """
        from pyvela import Application
        from pyvela.stdlib import SecretOrValue, SecretRef, webhook
        app = Application("hooked", components=[], workflow=[
            webhook("tell", url=SecretOrValue(secret_ref=SecretRef(name="hooks", key="url")), data={"a": 1}),
        ])
        """,
        setup=lambda box: plant_secret(box, "hooks", url=hooks.hook_url()),
    )
    assert not result.ok and "answered 500: boom at" in result.steps["tell"]["message"]
    assert TOKEN not in text


def test_a_missing_secret_or_key_is_one_clear_error(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    app = """
        from pyvela import Application
        from pyvela.stdlib import SecretOrValue, SecretRef, webhook
        app = Application("hooked", components=[], workflow=[
            webhook("tell", url=SecretOrValue(secret_ref=SecretRef(name="hooks", key="url")), data={"a": 1}),
        ])
        """
    missing, _ = deploy(write_app, tmp_path, app)
    assert not missing.ok
    assert "Secret default/hooks does not exist" in missing.steps["tell"]["message"]
    wrong_key, text = deploy(
        write_app, tmp_path, app, setup=lambda box: plant_secret(box, "hooks", other=hooks.hook_url())
    )
    assert not wrong_key.ok and "has no key 'url'" in wrong_key.steps["tell"]["message"]
    assert TOKEN not in text
    assert hooks.to("/hook/") == []


def test_a_secret_that_is_no_url_is_refused_without_showing_it(
    write_app: WriteApp, tmp_path: Path, hooks: Hooks
) -> None:
    result, text = deploy(
        write_app,
        tmp_path,
        """
        from pyvela import Application
        from pyvela.stdlib import SecretOrValue, SecretRef, webhook
        app = Application("hooked", components=[], workflow=[
            webhook("tell", url=SecretOrValue(secret_ref=SecretRef(name="hooks", key="url")), data={"a": 1}),
        ])
        """,
        setup=lambda box: plant_secret(box, "hooks", url=TOKEN),
    )
    assert not result.ok and "does not hold an http(s) URL" in result.steps["tell"]["message"]
    assert TOKEN not in text


# --------------------------------------------------------------------------- parameters


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: s.request("r", url="ftp://example.com/x"), "http:// or https://"),
        (lambda: s.request("r", url="not a url"), "http:// or https://"),
        (lambda: s.request("r", url="http://x", method="PATCH"), "method"),
        (lambda: s.request("r", url="http://x", body=["a"]), "body"),
        (lambda: s.request("r", url="http://x", header={"a": 1}), "header"),
        (lambda: s.request("r", url=3), "url"),
        (lambda: s.webhook("w", url=s.SecretOrValue()), "exactly one of value and secret_ref"),
        (
            lambda: s.webhook(
                "w", url=s.SecretOrValue(value="http://x", secret_ref=s.SecretRef(name="a", key="b"))
            ),
            "exactly one of value and secret_ref",
        ),
        (lambda: s.webhook("w", url=s.SecretOrValue(value="mailto:x@y")), "http:// or https://"),
        (lambda: s.webhook("w", url=s.SecretOrValue(secret_ref=s.SecretRef(name="a", key=1))), "key"),
        (lambda: s.webhook("w", url="http://x"), "url"),
        (lambda: s.webhook("w", url=s.SecretOrValue(value="http://x"), data="text"), "data"),
    ],
)
def test_bad_parameters_are_refused_at_the_call_site(make: Any, words: str) -> None:
    with pytest.raises(ParameterError) as err:
        make()
    assert words in str(err.value)
    assert "test_steps_http.py" in str(err.value.where)


def test_defaults_and_documentation() -> None:
    r = s.request("r", url="https://example.com")
    assert r.params.method == "GET" and r.params.body is None and r.params.header is None
    for definition in (s.request, s.webhook):
        for name, entry in definition.schema().items():
            assert entry.get("description"), f"{definition.name}.{name} has no description"
        assert "Follows KubeVela v1.10.1 vela-templates/definitions/internal/workflowstep/" in (
            definition.description
        )
