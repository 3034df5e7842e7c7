"""``pyvela defs --docs DIR``: a Markdown page per definition (parameters with types, defaults
and descriptions, nested parameter classes, a step's outputs, an example call) and an index,
rendered from the templates shipped in the package."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

from tests.conftest import ROOT


def _docs(tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path / "docs"
    proc = subprocess.run(
        [sys.executable, "-m", "pyvela", "defs", "--docs", str(out), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, out


def test_a_page_per_definition_and_an_index_linking_them(tmp_path: Path) -> None:
    proc, out = _docs(tmp_path)
    assert proc.returncode == 0, proc.stderr
    listed = subprocess.run(
        [sys.executable, "-m", "pyvela", "defs", "-o", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    import json

    entries = json.loads(listed.stdout)
    pages = sorted(p.name for p in out.glob("*.md") if p.name != "index.md")
    assert pages == sorted(f"{e['kind']}-{e['name']}.md" for e in entries)
    index = (out / "index.md").read_text()
    assert f"{len(entries)} definitions" in index
    for heading in ("## Components", "## Traits", "## Workflow steps", "## Policies"):
        assert heading in index
    assert set(re.findall(r"\]\(([^)]+\.md)\)", index)) == set(pages)  # every page, linked once
    assert f"wrote {len(pages)} definition pages" in proc.stdout


def test_a_component_page_documents_its_parameters_and_nested_classes(tmp_path: Path) -> None:
    _proc, out = _docs(tmp_path)
    page = (out / "component-webservice.md").read_text()
    assert page.startswith("# webservice (component)\n")
    assert "`from pyvela.stdlib import webservice`" in page
    assert "| workload | apps/v1 Deployment |" in page
    assert "| defined at | `pyvela/stdlib/workloads.py:" in page  # not this machine's path
    # type, default (Python's spelling) and description; pipes escaped for the table
    assert "| `image` | `str` | required | The container image. |" in page
    assert "| `expose_type` | `Literal['ClusterIP', 'NodePort', 'LoadBalancer']` | `'ClusterIP'` |" in page
    assert "| `ports` | `tuple[Port, ...] \\| None` | `None` |" in page
    assert "### Port\n" in page and "| `container_port` | `int \\| None` | `None` |" in page
    assert "### HealthProbe\n" in page


def test_examples_are_valid_python_calls(tmp_path: Path) -> None:
    _proc, out = _docs(tmp_path)
    for page in out.glob("*-*.md"):
        text = page.read_text()
        [code] = re.findall(r"```python\n(.*?)```", text, re.S)
        ast.parse(code)  # an app can start from it
    trait = (out / "trait-gateway.md").read_text()
    assert "gateway(http={...})" in trait and "| applies to |" in trait
    assert 'webservice("my-webservice", image="...")' in (out / "component-webservice.md").read_text()


def test_a_step_page_lists_its_outputs(tmp_path: Path) -> None:
    _proc, out = _docs(tmp_path)
    page = (out / "step-apply-base.md").read_text()
    assert "## Outputs" in page and "| `cluster_ip` | `str` |" in page
    assert "from platform_defs.steps import apply_base" in page


def test_an_unwritable_directory_is_one_message(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = subprocess.run(
        [sys.executable, "-m", "pyvela", "defs", "--docs", str(blocker / "docs")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot create the docs directory" in proc.stderr


def test_the_templates_are_package_data() -> None:
    templates = resources.files("pyvela._cli").joinpath("templates")
    assert templates.joinpath("definition.md.j2").is_file() and templates.joinpath("index.md.j2").is_file()
    # hatchling builds the wheel from the files git tracks under pyvela/: they must not be ignored
    ignored = subprocess.run(
        [
            "git",
            "check-ignore",
            "pyvela/_cli/templates/definition.md.j2",
            "pyvela/_cli/templates/index.md.j2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert ignored.returncode == 1, ignored.stdout  # 1: none of them is ignored
