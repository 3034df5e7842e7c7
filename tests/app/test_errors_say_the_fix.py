"""Every load error a new user meets first says what to do about it (a `fix`), not only what
is wrong: a wrong parameter type, an app module without `app`, one that raises or does not
parse, a trait on the wrong workload, a step naming no component, a condition naming no step."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela.errors import PyvelaError
from tests.conftest import ROOT

HEADER = "from platform_defs import apply_base, base_service, helm, ingress\nfrom pyvela import Application\n"
BASE = 'base_service("web", image="nginx:1.27", cluster="default")'


@pytest.mark.parametrize(
    ("body", "fix"),
    [
        pytest.param(
            'app = Application("a", components=[base_service("web", image=3, cluster="x")])',
            "image=",
            id="wrong-parameter-type",
        ),
        pytest.param(f"web = {BASE}", "app = Application(", id="no-app"),
        pytest.param(
            "from pyvela.stdlib import EnvVar, webservice\n"
            'app = Application("a", components=[webservice("w", image="x:1", env=(EnvVar(name=5),))])',
            "pyvela defs webservice",
            id="nested-wrong-type",
        ),
        pytest.param('raise ValueError("no config")\n', "import", id="raises-at-import"),
        pytest.param("app = Application(\n", "syntax", id="syntax-error"),
        pytest.param(
            'app = Application("a", components=[helm("r", chart="c", version="1", repo_url="https://x",'
            ' repo_type="helm").with_traits(ingress(domain="x.example.com", http={"/": 80}))])',
            "Deployment",
            id="trait-on-wrong-workload",
        ),
        pytest.param(
            f'app = Application("a", components=[{BASE}], workflow=[apply_base("s", component="wbe")])',
            "'web'",
            id="step-names-unknown-component",
        ),
        pytest.param(
            f'app = Application("a", components=[{BASE}], workflow=['
            'apply_base("s", component="web").when(lambda wf: wf.phase("nope") == "failed")])',
            "'s'",
            id="condition-names-unknown-step",
        ),
        pytest.param(
            f'app = Application("a", components=[{BASE}], workflow=['
            'apply_base("s", component="web").with_retries(-1)])',
            "with_retries(3)",
            id="negative-retries",
        ),
    ],
)
def test_the_error_says_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, fix: str) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(ROOT))
    (tmp_path / "app.py").write_text(HEADER + textwrap.dedent(body))
    with pytest.raises(PyvelaError) as caught:
        load_app("app.py")
    assert caught.value.where is not None, caught.value
    assert caught.value.fix, f"no fix in: {caught.value}"
    assert fix.lower() in caught.value.fix.lower(), caught.value
