"""The README's standard-library example is a working app (docs that cannot drift)."""

from __future__ import annotations

from pathlib import Path

from pyvela.testing import render
from tests.conftest import ROOT


def test_the_readme_stdlib_example_renders(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```python")[1:]]
    [example] = [b for b in blocks if "from pyvela.stdlib import" in b]
    app = tmp_path / "shop.py"
    app.write_text(example)
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in render(app))
    assert kinds == [("Deployment", "web"), ("Ingress", "web"), ("Service", "web")]

