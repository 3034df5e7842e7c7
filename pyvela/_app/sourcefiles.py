"""The source files of definition modules, and the catalogue's fingerprint of them, found
once per process while they are unchanged.

An app's revision hashes the files of its catalogue's modules. Finding them walks each
package and hashing reads every one; a process that loads many apps (the controller, after a
restart, loads each of its apps) did both again for every app. A package's listing is kept
while its root directories' mtimes are unchanged (a file added or removed there moves them);
a fingerprint while every file it read has the same mtime and size (the hash itself is
computed as before, so revisions do not change).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence

_lock = threading.Lock()
_listings: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, ...], list[tuple[str, str]]]] = {}
_fingerprints: dict[Hashable, str] = {}
_MAX_FINGERPRINTS = 256


def package_files(
    name: str, roots: Sequence[str], walk: Callable[[], list[tuple[str, str]]]
) -> list[tuple[str, str]]:
    """``walk()``, the ``(label, path)`` files of package ``name`` at ``roots``, or its last answer."""
    key = (name, tuple(roots))
    try:
        stamp = tuple(os.stat(r).st_mtime_ns for r in roots)
    except OSError:
        return walk()
    with _lock:
        kept = _listings.get(key)
    if kept is not None and kept[0] == stamp:
        return list(kept[1])
    found = walk()
    with _lock:
        _listings[key] = (stamp, list(found))
    return found


def _stat(file: str) -> tuple[int, int] | None:
    try:
        st = os.stat(file)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def fingerprint(
    keys: Iterable[Hashable], files: Iterable[tuple[str, str]], compute: Callable[[], str]
) -> str:
    """``compute()``, the fingerprint of definitions ``keys`` and source ``files``, or its
    last answer for the same keys and files unchanged since."""
    stamp = (tuple(keys), tuple((label, file, _stat(file)) for label, file in files))
    with _lock:
        kept = _fingerprints.get(stamp)
    if kept is not None:
        return kept
    found = compute()
    with _lock:
        if len(_fingerprints) >= _MAX_FINGERPRINTS:
            _fingerprints.clear()  # catalogues of a process are few: this only bounds a leak
        _fingerprints[stamp] = found
    return found
