"""The pytest plugin (pyvela.pytest_plugin), run through pytest's own ``pytester``.

Each test writes a small platform (``shopdefs.py``), an app and a test file into a fresh
directory and runs pytest there in-process, as a platform team's repository would.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import distributions

import pytest
from plugin_project import make_project

pytest_plugins = ["pytester"]


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    return make_project(pytester, monkeypatch)


def test_installing_pyvela_registers_the_plugin(pytester: pytest.Pytester) -> None:
    assert any(
        ep.value == "pyvela.pytest_plugin"
        for dist in distributions()
        if dist.metadata["Name"] == "pyvela"
        for ep in dist.entry_points.select(group="pytest11")
    )
    # A bare directory, a new interpreter: the options are there with nothing configured.
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(["*--pyvela-update-golden*", "*--pyvela-context=NAME*"])


def test_the_plugin_imports_nothing_of_pyvela_until_a_fixture_is_used() -> None:
    code = (
        "import sys, pytest; before = set(sys.modules); import pyvela.pytest_plugin; "
        "print(sorted(m for m in set(sys.modules) - before if not m.startswith('pyvela.pytest_plugin')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = eval(done.stdout)
    assert {m for m in loaded if m.startswith("pyvela")} <= {"pyvela", "pyvela.errors"}, loaded
    heavy = ("attrs", "yaml", "typeguard", "jinja2", "kubernetes", "httpx", "rich", "lark", "sqlite3")
    assert not [m for m in loaded if m.split(".")[0] in heavy], loaded


def test_pyvela_sandbox_is_fresh_per_test_and_the_cli_default(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import os
        from pathlib import Path

        CM = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "seen", "namespace": "default"}}

        def test_first(pyvela_sandbox, tmp_path):
            assert pyvela_sandbox.is_sandbox and pyvela_sandbox.root.parent == tmp_path
            assert os.environ["PYVELA_SANDBOX"] == str(pyvela_sandbox.root)
            assert pyvela_sandbox.list("ConfigMap", "default") == []
            pyvela_sandbox.backend.apply(CM)
            assert pyvela_sandbox.get("ConfigMap", "seen")["metadata"]["uid"]

        def test_second(pyvela_sandbox):
            assert pyvela_sandbox.list("ConfigMap", "default") == []
        """
    )
    project.runpytest("-p", "no:randomly").assert_outcomes(passed=2)


def test_render_app_renders_with_the_configured_catalogue(project: pytest.Pytester) -> None:
    project.mkdir("sub")
    project.makepyfile(
        **{
            "sub/test_plugin_render_from_a_subdirectory": """
            from pyvela.testing import assert_fields

            def test_render(render_app):
                objs = render_app("apps/shop.py")  # relative to the project, wherever pytest runs
                assert [o["kind"] for o in objs] == ["Deployment"]
                assert_fields(objs.get("Deployment", "shop-web"), {"spec": {"replicas": 2}})
                assert len(render_app("apps/shop.py", component="shop-web")) == 1
                from pyvela import Application
                from shopdefs import web
                inline = render_app(Application("inline", components=[web("w", image="x:1")]))
                assert inline.get("Deployment", "w")["spec"]["replicas"] == 1
            """
        }
    )
    project.runpytest("sub").assert_outcomes(passed=1)


def test_deploy_app_runs_the_workflow_on_the_sandbox_and_returns_its_status(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_deploy(deploy_app, pyvela_sandbox, pyvela_cluster):
            assert pyvela_cluster is pyvela_sandbox
            deployed = deploy_app("apps/shop.py")
            assert deployed.ok, deployed
            assert deployed.outputs("roll-out-web") == {"ready": "shop-web"}
            [obj] = deployed.status["objects"]
            assert obj["ready"] and obj["message"] == "2/2 replicas ready"
            assert pyvela_sandbox.get("Deployment", "shop-web")["status"]["readyReplicas"] == 2
            assert deploy_app("apps/shop.py").result.up_to_date
        """
    )
    project.runpytest().assert_outcomes(passed=1)


def test_a_failed_deploy_says_which_step_and_why(project: pytest.Pytester) -> None:
    (project.path / "apps" / "broken.py").write_text(
        "from pyvela import Application\nfrom shopdefs import refuse, web\n"
        'app = Application("broken", components=[web("w", image="x")],\n'
        '    workflow=[refuse("roll", component="w")])\n'
    )
    project.makepyfile(
        """
        def test_deploy(deploy_app):
            deployed = deploy_app("apps/broken.py")
            assert deployed.ok, deployed
        """
    )
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Deployed(app='broken', phase='failed'*roll: failed*no capacity for w*"])


def test_run_step_drives_a_step_with_canned_results(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        from pyvela import AppliedComponent, ApplyComponent, Log, WaitReady
        from shopdefs import WebParams, roll_out

        def test_step(run_step):
            applied = AppliedComponent(component="shop-web", workload={}, outputs={})
            trace = run_step(
                roll_out("s", component="shop-web"),
                results={ApplyComponent: applied, WaitReady: {}, Log: None},
                components={"shop-web": WebParams(image="x")},
            )
            assert trace.error is None and trace.outputs.ready == "shop-web"
            assert [type(a).__name__ for a in trace.actions] == ["ApplyComponent", "WaitReady", "Log"]
        """
    )
    project.runpytest().assert_outcomes(passed=1)


GOLDEN_TEST = """
from pyvela.testing import assert_golden

def test_golden():
    assert_golden("apps/shop.py", "tests/golden/shop.yaml")
"""


def test_golden_files_are_written_only_with_the_flag(project: pytest.Pytester) -> None:
    project.makepyfile(GOLDEN_TEST)
    golden = project.path / "tests" / "golden" / "shop.yaml"
    missing = project.runpytest()
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(["*golden file tests/golden/shop.yaml is missing*--pyvela-update-golden*"])
    assert not golden.exists()

    written = project.runpytest("--pyvela-update-golden")
    written.assert_outcomes(passed=1)
    written.stdout.fnmatch_lines(["*pyvela golden files*", "rewritten: tests/golden/shop.yaml*"])
    assert "replicas: 2" in golden.read_text()

    project.runpytest().assert_outcomes(passed=1)
    again = project.runpytest("--pyvela-update-golden")
    again.stdout.fnmatch_lines(["*every golden file was already up to date*"])

    golden.write_text(golden.read_text().replace("replicas: 2", "replicas: 3"))
    changed = project.runpytest()
    changed.assert_outcomes(failed=1)
    changed.stdout.fnmatch_lines(
        [
            "*rendered objects differ from tests/golden/shop.yaml*",
            "*Deployment default/shop-web: 1 field(s) differ",
            "*spec.replicas: expected 3, got 2",
        ]
    )
    # The flag lasts for its own run only.
    from pyvela import testing

    assert testing._golden.update is False


def test_the_golden_flag_is_refused_under_ci(
    project: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.makepyfile(GOLDEN_TEST)
    monkeypatch.setenv("CI", "true")
    result = project.runpytest("--pyvela-update-golden")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--pyvela-update-golden is refused under CI*"])
    assert not (project.path / "tests" / "golden" / "shop.yaml").exists()


E2E_TEST = """
import pytest

@pytest.mark.pyvela_e2e
def test_anywhere(pyvela_cluster):
    assert not pyvela_cluster.is_sandbox

@pytest.mark.pyvela_e2e(context="staging")
def test_on_staging(pyvela_cluster):
    assert pyvela_cluster.context == "staging"
"""


def test_the_e2e_marker_skips_with_the_reason_without_a_cluster(project: pytest.Pytester) -> None:
    project.makepyfile(E2E_TEST)
    result = project.runpytest("-rs")
    result.assert_outcomes(skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*pyvela_e2e: no real cluster given; run pytest --pyvela-context NAME*",
            "*pyvela_e2e: no real cluster given (it is written for the cluster of context 'staging')*",
        ]
    )


def test_the_e2e_marker_skips_a_test_written_for_another_context(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        import pytest

        @pytest.mark.pyvela_e2e(context="staging")
        def test_on_staging():
            pass
        """
    )
    result = project.runpytest("-rs", "--pyvela-context", "dev")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*written for context 'staging', and --pyvela-context is 'dev'*"])


def test_the_marker_is_registered_for_strict_markers(project: pytest.Pytester) -> None:
    project.makepyfile(E2E_TEST)
    project.runpytest("--strict-markers").assert_outcomes(skipped=2)
    assert any("pyvela_e2e(context=None)" in line for line in project.runpytest("--markers").outlines)


def test_equal_objects_compared_in_a_test_show_their_differing_fields(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_compare(render_app):
            got = render_app("apps/shop.py").get("Deployment", "shop-web")
            want = {**got, "spec": {**got["spec"], "replicas": 5}}
            assert got == want
        """
    )
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Deployment default/shop-web == Deployment default/shop-web (expected: the right-hand side)",
            "*spec.replicas: expected 5, got 2",
        ]
    )


def test_equal_lists_of_objects_show_the_objects_and_fields_that_differ(project: pytest.Pytester) -> None:
    project.makepyfile(
        """
        def test_compare(render_app):
            got = render_app("apps/shop.py").objects
            extra = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "shop-web"}}
            want = [{**got[0], "spec": {**got[0]["spec"], "replicas": 4}}, extra]
            assert got == want
        """
    )
    result = project.runpytest()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*Kubernetes objects differ (expected: the right-hand side)",
            "*missing: Service shop-web (in the right-hand side, not the left)",
            "*Deployment default/shop-web: 1 field(s) differ",
            "*spec.replicas: expected 4, got 2",
        ]
    )
