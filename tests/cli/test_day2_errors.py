"""Every day-2 command on the sandbox: an unknown app, component or namespace is one message
listing what exists (exit 1, kubectl's "not found"), in JSON with ``-o json`` (on stderr, as
every command's errors), never a traceback; bad arguments exit 2; a cluster that cannot be
reached (``--context``/``--kubeconfig``) is one message too."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

WriteApp = Callable[..., Path]
DEFS = ["--defs", "tests.cli.pod_defs"]
APP = """
from pyvela import Application
from tests.cli.pod_defs import canary, server

app = Application("shop", components=[
    canary("front", image="registry.example.com/front:1"),
    server("plain", image="registry.example.com/plain:1"),
])
"""
#: (argv with APP and COMPONENT to fill in, takes -o json)
COMMANDS = [
    (["status", "{app}"], True),
    (["status", "{app}", "--tree", "--pods"], True),
    (["history", "{app}"], True),
    (["workflow", "logs", "{app}"], True),
    (["logs", "{app}", "{component}"], True),
    (["exec", "{app}", "{component}", "--", "true"], True),
    (["port-forward", "{app}", "{component}", "8080:80"], True),
    (["rollout", "promote", "{app}", "{component}"], True),
    (["rollout", "abort", "{app}", "{component}"], True),
    (["rollout", "retry", "{app}", "{component}"], True),
    (["rollout", "pause", "{app}", "{component}"], True),
]
IDS = [" ".join(a[:2]) + (" --tree" if "--tree" in a else "") for a, _ in COMMANDS]
WITH_COMPONENT = [(c, i) for c, i in zip(COMMANDS, IDS, strict=True) if "{component}" in c[0]]


@pytest.fixture
def shop(capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path) -> None:
    assert main(["deploy", str(write_app(APP)), *DEFS]) == 0, capsys.readouterr().err
    capsys.readouterr()


def _argv(argv: list[str], app: str, component: str, *extra: str) -> list[str]:
    filled = [a.format(app=app, component=component) for a in argv]
    if "--" in filled:
        at = filled.index("--")
        return [*filled[:at], *extra, *filled[at:]]
    return [*filled, *extra]


def _run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize(("argv", "json_out"), COMMANDS, ids=IDS)
def test_an_unknown_app_lists_the_apps(
    capsys: pytest.CaptureFixture[str], shop: None, argv: list[str], json_out: bool
) -> None:
    code, out, err = _run(capsys, _argv(argv, "ghost", "front"))
    assert code == 1 and out == ""
    assert err.startswith("error: no app 'ghost' on sandbox") and "shop (namespace default)" in err
    assert "Traceback" not in err
    code, out, err = _run(capsys, _argv(argv, "ghost", "front", "-o", "json"))
    data = json.loads(err)
    assert code == 1 and data["ok"] is False and data["error"] == "NotFoundError"
    assert data["got"] == "ghost" and "shop" in data["expected"]


@pytest.mark.parametrize(("argv", "json_out"), COMMANDS, ids=IDS)
def test_an_app_in_another_namespace_says_which(
    capsys: pytest.CaptureFixture[str], shop: None, argv: list[str], json_out: bool
) -> None:
    code, _, err = _run(capsys, _argv(argv, "shop", "front", "-n", "elsewhere"))
    assert code == 1 and "no app 'shop' in namespace 'elsewhere'" in err and "pass -n default" in err


@pytest.mark.parametrize(
    ("argv", "json_out"), [c for c, _ in WITH_COMPONENT], ids=[i for _, i in WITH_COMPONENT]
)
def test_an_unknown_component_lists_the_components(
    capsys: pytest.CaptureFixture[str], shop: None, argv: list[str], json_out: bool
) -> None:
    code, out, err = _run(capsys, _argv(argv, "shop", "nope"))
    assert code == 1 and out == ""
    # One message, the component said once (no "component 'nope': ... component 'nope'").
    assert err.splitlines()[0] == "error: app 'shop' has no component 'nope'", err
    assert "expected: one of front, plain" in err and "fix:      pick a component from `pyvela status`" in err
    code, _, err = _run(capsys, _argv(argv, "shop", "nope", "-o", "json"))
    data = json.loads(err)
    assert code == 1 and data["message"] == "app 'shop' has no component 'nope'"
    assert data["expected"] == "one of front, plain"


def test_a_component_without_a_rollout_is_said_once(capsys: pytest.CaptureFixture[str], shop: None) -> None:
    code, _, err = _run(capsys, ["rollout", "promote", "shop", "plain"])
    assert code == 1
    assert err.splitlines()[0] == "error: component 'plain' of app 'shop' has no Argo Rollout", err


@pytest.mark.parametrize(
    "argv",
    [
        ["logs"],
        ["exec", "shop", "front"],
        ["port-forward", "shop", "front"],
        ["rollout", "promote", "shop"],
        ["rollout", "bogus", "shop", "front"],
        ["ls", "-o", "yaml"],
        ["logs", "shop", "--since", "soon"],
    ],
)
def test_bad_arguments_exit_2(capsys: pytest.CaptureFixture[str], sandbox_dir: Path, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(argv)
    assert done.value.code == 2
    assert "usage:" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["ls"],
        ["status", "shop"],
        ["logs", "shop"],
        ["exec", "shop", "front", "--", "true"],
        ["port-forward", "shop", "front", "80"],
        ["rollout", "promote", "shop", "front"],
        ["workflow", "logs", "shop"],
    ],
)
def test_a_kubeconfig_that_does_not_exist_is_one_message(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str]
) -> None:
    missing = tmp_path / "no-such-kubeconfig"
    at = argv.index("--") if "--" in argv else len(argv)
    code, out, err = _run(capsys, [*argv[:at], "--kubeconfig", str(missing), *argv[at:]])
    assert code == 1 and out == ""
    assert err.startswith(f"error: the kubeconfig {missing} does not exist"), err
    code, out, err = _run(
        capsys, [*argv[:at], "--context", "nowhere", "--kubeconfig", str(missing), *argv[at:]]
    )
    assert code == 1 and out == "" and "Traceback" not in err and err.startswith("error: ")
