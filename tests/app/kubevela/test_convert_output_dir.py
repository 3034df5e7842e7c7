"""``pyvela convert -o DIR`` where DIR cannot be a directory: one message and exit 1, no traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from pyvela._cli.main import main

APP = textwrap.dedent(
    """\
    apiVersion: core.oam.dev/v1beta1
    kind: Application
    metadata:
      name: first-app
    spec:
      components:
        - name: web
          type: webservice
          properties:
            image: nginx:1.27
    """
)


@pytest.fixture
def app_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "app.yaml"
    path.write_text(APP, encoding="utf-8")
    return path


def test_an_existing_file_as_output_dir_is_one_message(
    app_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "shop.py"
    existing.write_text("# mine\n", encoding="utf-8")
    assert main(["convert", str(app_yaml), "-o", str(existing)]) == 1
    err = capsys.readouterr().err
    assert "is an existing file" in err and "Traceback" not in err
    assert "fix:" in err
    assert existing.read_text(encoding="utf-8") == "# mine\n"  # left as it was


def test_an_output_dir_under_a_file_is_one_message(
    app_yaml: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "afile").write_text("", encoding="utf-8")
    assert main(["convert", str(app_yaml), "-o", str(tmp_path / "afile" / "out")]) == 1
    err = capsys.readouterr().err
    assert "cannot create the output directory" in err and "Traceback" not in err
