"""Mistakes in ``.pyvela/sandbox.yaml``: each is refused at its file and line, with what was
expected, what was found and the fix (docs/sandbox.md promises the file and line)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela._backends.sandbox import SandboxSettings
from pyvela.errors import ClusterError, Location


@pytest.mark.parametrize(
    ("text", "line", "message", "got", "fix"),
    [
        (
            "nodes: 2\nhonour_pauses: maybe\n",
            2,
            "honour_pauses must be a boolean",
            "'maybe'",
            "honour_pauses: true",
        ),
        (
            "nodes: 1\n\nready_dealy: 1\n",
            3,
            "unknown sandbox setting 'ready_dealy'",
            "1",
            "did you mean ready_delay?",
        ),
        ("nodes: -1\n", 1, "nodes must be an integer >= 0", "-1", "nodes: 3"),
        (
            "# images\nfail_images: '*x*'\n",
            2,
            "must be a list of image globs",
            "'*x*'",
            "fail_images: ['*x*']",
        ),
        ("ready_delay: soon\n", 1, "ready_delay must be a number", "'soon'", "ready_delay: 2.5"),
        ("- 1\n", 1, "must be a mapping", "[1]", "key: value"),
        ("zzz: 1\n", 1, "unknown sandbox setting 'zzz'", "1", "the keys are ready_delay, fail_images"),
    ],
)
def test_a_bad_setting_names_file_line_expected_got_and_fix(
    tmp_path: Path, text: str, line: int, message: str, got: str, fix: str
) -> None:
    (tmp_path / "sandbox.yaml").write_text(text)
    with pytest.raises(ClusterError) as caught:
        SandboxSettings.load(tmp_path, environ={})
    err = caught.value
    assert err.where == Location(str(tmp_path / "sandbox.yaml"), line)
    assert message in err.message and err.got == got and err.expected
    assert err.fix is not None and fix in err.fix
    assert str(err).startswith(f"{tmp_path / 'sandbox.yaml'}:{line}: ")


def test_booleans_are_taken_as_written(tmp_path: Path) -> None:
    (tmp_path / "sandbox.yaml").write_text("honour_pauses: false\nready_delay: 0\n")
    assert SandboxSettings.load(tmp_path, environ={}) == SandboxSettings(ready_delay=0.0, honour_pauses=False)
    (tmp_path / "sandbox.yaml").write_text("honour_pauses: yes\n")  # YAML 1.1's boolean
    assert SandboxSettings.load(tmp_path, environ={}).honour_pauses is True
