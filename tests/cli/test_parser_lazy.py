"""The parser builds only the given command's subparser, and it is the one the full parser has."""

from __future__ import annotations

import argparse

import pytest

from pyvela._cli.main import _command_of, _parser


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


FULL = _commands(_parser())


def test_a_known_command_builds_its_subparser_alone() -> None:
    assert list(_commands(_parser("render"))) == ["render"]
    # day-2 commands share one builder: they come together
    assert set(_commands(_parser("logs"))) == {"logs", "exec", "port-forward", "rollout"}


@pytest.mark.parametrize("name", sorted(FULL))
def test_each_lazily_built_subparser_is_the_full_parsers(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "100")
    lazy = _commands(_parser(name))[name]
    assert lazy.format_help() == _commands(_parser())[name].format_help()
    assert lazy.format_usage() == FULL[name].format_usage()


@pytest.mark.parametrize("given", ["rendr", "Render", "", "help"])
def test_an_unknown_command_builds_every_subparser_for_its_error(given: str) -> None:
    assert list(_commands(_parser(given))) == list(FULL)


@pytest.mark.parametrize(
    ("argv", "command"),
    [([], None), (["-h"], None), (["--version"], None), (["--", "render"], None), (["diff", "a"], "diff")],
)
def test_the_command_is_the_first_word_unless_an_option(argv: list[str], command: str | None) -> None:
    assert _command_of(argv) == command
