"""Commands that reach a cluster run with few full collections, and give the thresholds back."""

from __future__ import annotations

import argparse
import gc

import pytest

from pyvela._cli import commands, run


def test_a_cluster_command_runs_with_few_full_collections_and_restores_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[int, int, int]] = []

    def fake(args: argparse.Namespace) -> int:
        seen.append(gc.get_threshold())
        raise RuntimeError("the command failed")

    monkeypatch.setattr(run, "dispatch_run", fake)
    before = gc.get_threshold()
    with pytest.raises(RuntimeError):
        commands.dispatch(argparse.Namespace(command="deploy"))
    assert seen and seen[0][0] > before[0] and seen[0][2] >= before[2]
    assert gc.get_threshold() == before and gc.isenabled()
