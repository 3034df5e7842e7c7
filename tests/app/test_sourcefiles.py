"""The catalogue's source files and fingerprint are found once per process while unchanged
(a controller loads every app after a restart), and found again when a file changes: the
revision is the same as computed without the memo, and follows an edited or added file."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator
from pathlib import Path

import pytest

from pyvela._app import sourcefiles
from pyvela._app.catalogue import Catalogue


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "memo_defs"
    root.mkdir()
    (root / "__init__.py").write_text("X = 1\n")
    (root / "template.j2").write_text("a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield root
    sys.modules.pop("memo_defs", None)


def _touch(file: Path, text: str) -> None:
    file.write_text(text)
    st = file.stat()
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a later write, surely


def test_the_fingerprint_is_the_same_and_follows_the_files(package: Path) -> None:
    first = Catalogue.from_modules(["memo_defs"])
    calls: list[int] = []
    real = sourcefiles.fingerprint

    def counted(
        keys: Iterable[Hashable], files: Iterable[tuple[str, str]], compute: Callable[[], str]
    ) -> str:
        def counting() -> str:
            calls.append(1)
            return compute()

        return real(keys, files, counting)

    fingerprint = first.fingerprint()
    again = Catalogue.from_modules(["memo_defs"])
    assert again.files == first.files and again.fingerprint() == fingerprint
    sourcefiles.fingerprint = counted
    try:
        assert again.fingerprint() == fingerprint and calls == []  # kept: no file read
        _touch(package / "template.j2", "b\n")  # same size, later mtime
        changed = Catalogue.from_modules(["memo_defs"]).fingerprint()
        assert changed != fingerprint and calls == [1]
    finally:
        sourcefiles.fingerprint = real


def test_a_file_added_to_the_package_is_listed(package: Path) -> None:
    before = {label for label, _ in Catalogue.from_modules(["memo_defs"]).files}
    (package / "more.j2").write_text("c\n")
    st = package.stat()
    os.utime(package, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    after = {label for label, _ in Catalogue.from_modules(["memo_defs"]).files}
    assert after - before == {"memo_defs:more.j2"}
