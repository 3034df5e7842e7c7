"""`pyvela diff`: creates, updates, prunes, the first deploy, rollbacks, exit codes, masked Secrets."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela._cli.main import main

WriteApp = Callable[..., Path]
DEFS = ["--defs", "tests.cli.diff_defs"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def changes(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, str]]:
    code, out, err = run(capsys, "diff", *argv, "-o", "json")
    assert code in (0, 1), err
    return code, {c["object"]: c["change"] for c in json.loads(out)}


APP = """
from tests.cli.diff_defs import settings
from pyvela import Application
app = Application("d", namespace="fresh", components=[{components}])
"""


def test_before_the_first_deploy_everything_is_to_be_created(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app(APP.format(components='settings("a")'))
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 1
    assert got == {
        "Namespace fresh": "create",
        "ConfigMap fresh/a": "create",
        "Secret fresh/a-secret": "create",
    }
    code, out, err = run(capsys, "diff", str(path), *DEFS)
    assert code == 1 and "not found" not in err
    assert "+  name: fresh" in out


def test_exit_codes_follow_kubectl_diff(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app(APP.format(components='settings("a")'))
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 0 and set(got.values()) == {"unchanged"}
    path.write_text(APP.format(components='settings("a", value="v2")'))
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 1 and got["ConfigMap fresh/a"] == "update"
    code, _out, err = run(capsys, "diff", str(path.with_name("missing.py")), *DEFS)
    assert code == 2 and "does not exist" in err


def test_objects_the_deploy_would_prune_are_listed(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app(APP.format(components='settings("a"), settings("b")'))
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    path.write_text(APP.format(components='settings("a"), settings("c")'))
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 1
    assert got["ConfigMap fresh/b"] == "prune" and got["Secret fresh/b-secret"] == "prune"
    assert got["ConfigMap fresh/c"] == "create" and got["ConfigMap fresh/a"] == "unchanged"
    _code, out, _err = run(capsys, "diff", str(path), *DEFS)
    assert "    prune  ConfigMap fresh/b" in out and "-  name: b" in out
    # and the deploy really prunes what the diff said
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 0 and "ConfigMap fresh/b" not in got


def test_kept_by_the_garbage_collect_policy_is_not_a_prune(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    source = """
from tests.cli.diff_defs import settings
from pyvela import Application, garbage_collect
app = Application("d", namespace="fresh", components=[{components}],
                  policies=[garbage_collect("gc", keep_legacy_resource=True)])
"""
    path = write_app(source.format(components='settings("a"), settings("b")'))
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    path.write_text(source.format(components='settings("a")'))
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 0 and got["ConfigMap fresh/b"] == "kept"


def test_kept_by_a_garbage_collect_rule_is_not_a_prune(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    source = """
from tests.cli.diff_defs import settings
from pyvela import Application, GarbageCollectRule, RuleSelector, garbage_collect
app = Application("d", namespace="fresh", components=[{components}], policies=[{policies}])
"""
    rule = 'garbage_collect("gc", rules=(GarbageCollectRule(selector=RuleSelector(component_names=("b",)), ' \
        'strategy="onAppDelete"),))'
    path = write_app(source.format(components='settings("a"), settings("b"), settings("c")', policies=rule))
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    path.write_text(source.format(components='settings("a")', policies=""))  # the rule went with b
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 1 and got["ConfigMap fresh/b"] == "kept" and got["ConfigMap fresh/c"] == "prune"


def test_what_apply_once_leaves_alone_is_unchanged(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    source = """
from tests.cli.diff_defs import settings
from pyvela import Application, apply_once
app = Application("d", namespace="fresh", components=[settings("a")], policies=[apply_once("o", enable=True)])
"""
    path = write_app(source)
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    code, got = changes(capsys, str(path), *DEFS)
    assert code == 0 and got["ConfigMap fresh/a"] == "unchanged", got


def test_secret_values_are_masked_unless_asked(
    capsys: pytest.CaptureFixture[str], write_app: WriteApp, sandbox_dir: Path
) -> None:
    path = write_app(APP.format(components='settings("a")'))
    code, out, _err = run(capsys, "diff", str(path), *DEFS)
    assert code == 1 and "hunter2" not in out and "aHVudGVyMg" not in out
    assert "<hidden>" in out
    assert run(capsys, "deploy", str(path), *DEFS)[0] == 0
    path.write_text(APP.format(components='settings("a", password="swordfish")'))
    code, out, _err = run(capsys, "diff", str(path), *DEFS)
    assert code == 1
    assert "swordfish" not in out and "hunter2" not in out
    assert "+  password: '<hidden: changed>'" in out and "-  password: <hidden>" in out
    assert "user" not in [line[1:].split(":")[0].strip() for line in out.splitlines() if line[:1] in "+-"]
    _code, shown, _err = run(capsys, "diff", str(path), *DEFS, "--show-secrets")
    assert "hunter2" in shown or "aHVudGVyMg" in shown


def test_after_a_rollback_the_step_patch_of_the_live_revision_counts(
    capsys: pytest.CaptureFixture[str], sandbox_dir: Path, tmp_path: Path
) -> None:
    original = Path("apps/lixiang.py").read_text()
    changed = tmp_path / "lixiang2.py"
    changed.write_text(original.replace('"nginx:1.14.2"', '"nginx:1.15"', 1))
    assert run(capsys, "deploy", "apps/lixiang.py")[0] == 0
    assert run(capsys, "deploy", str(changed))[0] == 0
    assert run(capsys, "rollback", str(changed))[0] == 0
    code, out, err = run(capsys, "diff", "apps/lixiang.py")
    assert code == 0, out + err
    assert "BackendIP" not in out
    code, got = changes(capsys, str(changed))
    assert code == 1 and got["Deployment default/base-service"] == "update"
    assert got["Rollout default/proxy-service"] == "unchanged"
