"""`pyvela render` of a Python app imports only what rendering needs.

Start-up is most of a small render: typeguard (with asyncio and unittest.mock), Jinja for
templates that only substitute names, and the KubeVela YAML loader (lark) are imported
when a value is refused, a template needs Jinja, or the app is YAML - not otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

HEAVY = ("typeguard", "asyncio", "unittest", "jinja2", "lark", "kubernetes", "rich")
RUN_LAYERS = ("pyvela._backends", "pyvela._workflow", "pyvela._configcentre", "pyvela._ui", "pyvela._cli.run")
UNUSED_STDLIB = {
    "pyvela.stdlib.helmchart",
    "pyvela.stdlib.jobs",
    "pyvela.stdlib.steps_notify",
    "pyvela.stdlib.steps_http",
    "pyvela.stdlib.traits_dev",
    "pyvela.stdlib.traits_storage",
}
#: The built-in policies (and what they read policies with): an app without policies needs none.
POLICIES = {
    "pyvela._core.policies_builtin",
    "pyvela._core.policies_cluster",
    "pyvela._core.placement",
    "pyvela._core.selectors",
    "pyvela._core.fieldpaths",
    "pyvela._core.waivers",
    "pyvela._app.deploysteps",
    "pyvela._core.guardrails",  # no module of the catalogue defines a check
}
CODE = """
import contextlib, io, sys
from pyvela._cli.main import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    code = main(["render", sys.argv[1]])
assert code == 0 and out.getvalue().count("kind:") >= 3, (code, out.getvalue()[:200])
print(" ".join(sorted(sys.modules)))
"""


@pytest.mark.parametrize("app", ["benchmarks/apps/seed_1000.py", "benchmarks/apps/stdlib_1000.py"])
def test_render_imports_nothing_it_does_not_need(app: str) -> None:
    env = {**os.environ, "PYVELA_BENCH_N": "3"}
    done = subprocess.run(
        [sys.executable, "-c", CODE, app], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    loaded = set(done.stdout.split())
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    # A render reaches no cluster, runs no workflow and serves nothing: the layers above the app
    # (and the other commands' modules) are imported by the commands that need them.
    assert not {m for m in loaded if m.startswith(RUN_LAYERS)}
    # The standard library is read by name: an app of three definitions imports their modules.
    assert not loaded & UNUSED_STDLIB
    assert not loaded & POLICIES
    # The seed's steps name StepContext for type checkers only: no action class is created.
    assert "pyvela._core.actions" not in loaded


def test_a_second_render_of_the_seed_app_does_not_import_pyyaml(tmp_path: Path) -> None:
    # Its template's parsed skeleton is kept between runs (pyvela._core.template).
    env = {**os.environ, "PYVELA_BENCH_N": "3", "PYVELA_CACHE_DIR": str(tmp_path)}
    runs = [
        subprocess.run(
            [sys.executable, "-c", CODE, "benchmarks/apps/seed_1000.py"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        for _ in range(2)
    ]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    assert ["yaml" in r.stdout.split() for r in runs] == [True, False]
