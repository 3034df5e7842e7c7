"""``render``/``diff``/``graph`` given an app's name (as ``status NAME`` takes it): the message
says that the command needs the app's file, not only that no such file exists."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela._cli.main import main


@pytest.mark.parametrize("command", ["render", "graph"])
def test_a_bare_name_says_the_command_needs_the_file(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([command, "shop"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: app file 'shop' does not exist"), err
    assert "needs the app's file" in err and "status, history, rollback and delete take the name" in err


def test_a_missing_path_keeps_the_check_the_path_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["render", "apps/shop.py"]) == 1
    err = capsys.readouterr().err
    assert "check the path" in err and "needs the app's file" not in err
