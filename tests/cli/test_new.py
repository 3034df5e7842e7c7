"""``pyvela new``: what it writes passes mypy --strict, ruff and pytest as written, and its
golden tests catch a change; bad input is one clear message, and nothing is overwritten."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pyvela._cli.main import main


def run(cwd: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYVELA_")}
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A platform made by `new platform`, then one of each kind added to it."""
    out = tmp_path_factory.mktemp("new")
    assert main(["new", "platform", "acme", "-o", str(out)]) == 0
    project = out / "acme"
    for kind, name in (("component", "web-service"), ("trait", "expose"), ("step", "roll-out")):
        assert main(["new", kind, name, "-o", str(project)]) == 0
    assert main(["new", "app", "shop", "--component", "web-service", "-o", str(project)]) == 0
    return project


def test_it_writes_a_definition_its_test_and_docs_for_each_kind(platform: Path) -> None:
    for path in (
        "pyproject.toml",
        "acme/__init__.py",
        "acme/py.typed",
        "acme/guardrails.py",
        "acme/components/service.py",
        "acme/components/web_service.py",
        "acme/traits/expose.py",
        "acme/steps/roll_out.py",
        "apps/hello.py",
        "apps/shop.py",
        "tests/test_component_web_service.py",
        "tests/test_trait_expose.py",
        "tests/test_step_roll_out.py",
        "tests/test_app_shop.py",
        "tests/golden/component_web_service.yaml",
        "tests/golden/trait_expose.yaml",
        "tests/golden/step_roll_out.yaml",
        "tests/golden/app_shop.yaml",
        "docs/components/web-service.md",
        "docs/traits/expose.md",
        "docs/steps/roll-out.md",
        "docs/apps/shop.md",
    ):
        assert (platform / path).is_file(), path
    source = (platform / "acme/components/web_service.py").read_text()
    assert '@component(name="web-service", params=WebServiceParams' in source
    assert "kind: Deployment" in (platform / "tests/golden/app_shop.yaml").read_text()


def test_what_it_writes_passes_mypy_strict(platform: Path, tmp_path: Path) -> None:
    done = run(platform, "mypy", "--strict", "--cache-dir", str(tmp_path / "mypy"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues found in 17 source files" in done.stdout


def test_what_it_writes_passes_ruff(platform: Path) -> None:
    for args in (("check", "--no-cache", "."), ("format", "--no-cache", "--check", ".")):
        done = run(platform, "ruff", *args)
        assert done.returncode == 0, done.stdout + done.stderr


def test_what_it_writes_passes_its_tests_and_a_change_fails_its_golden_test(platform: Path) -> None:
    done = run(platform, "pytest", "-q", "-p", "no:cacheprovider")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "17 passed" in done.stdout

    component = platform / "acme/components/web_service.py"
    source = component.read_text()
    component.write_text(source.replace("replicas: int = 2", "replicas: int = 3"))
    try:
        done = run(platform, "pytest", "-q", "-p", "no:cacheprovider", "tests/test_component_web_service.py")
    finally:
        component.write_text(source)
    assert done.returncode == 1, done.stdout[-3000:]
    assert "Deployment default/web: 1 field(s) differ" in done.stdout
    assert "spec.replicas: expected 2, got 3" in done.stdout


def test_outside_a_platform_project_it_says_how_to_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "component", "web", "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path} is not a pyvela platform project" in err
    assert "pyvela new platform NAME" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["Web", "web_service", "9lives", "web-", "a--b", "class", "json"])
def test_a_name_it_cannot_use_is_refused(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "platform", name, "-o", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert f"{name!r} cannot name a platform" in err and "lowercase letters, digits and single dashes" in err
    assert list(tmp_path.iterdir()) == []


def test_nothing_is_overwritten(platform: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = (platform / "acme/traits/expose.py").read_text()
    assert main(["new", "trait", "expose", "-o", str(platform)]) == 1
    assert "refusing to overwrite" in capsys.readouterr().err
    assert (platform / "acme/traits/expose.py").read_text() == before
    assert main(["new", "platform", "acme", "-o", str(platform.parent)]) == 1
    assert "already exists and is not empty" in capsys.readouterr().err


def test_an_app_is_not_named_after_the_package(platform: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "app", "acme", "-o", str(platform)]) == 1
    assert "an app cannot be named after the platform's package 'acme'" in capsys.readouterr().err


def test_an_app_names_a_component_the_platform_has(
    platform: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "app", "other", "--component", "database", "-o", str(platform)]) == 1
    err = capsys.readouterr().err
    assert "the app would use component 'database'" in err and "pyvela new component database" in err
    assert not (platform / "apps/other.py").exists()
