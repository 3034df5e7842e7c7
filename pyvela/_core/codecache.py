"""attrs' generated methods kept between runs of the CLI.

attrs writes each class's methods (``__init__``, ``__repr__``, ``__eq__``, ``__hash__`` …) as
Python source and compiles it when the class is created: about 1.5 M instructions a class,
and a command creates 40-110 of them at start-up (the standard library's app: a tenth of its
render). With the cache on, the code the compiler gave is kept in the user's cache directory
(as the template skeletons are) with the exact source, file name and compiler flags it came
from; a class whose source is the same gets that code back, which is what compiling again
gives. A new or changed class, another Python, an unreadable or foreign entry: compiled as
before (and kept). The entries are code, as ``.pyc`` files are, in the user's own directory.

Only the CLI installs it (:func:`install`, before its first attrs class): a library user's
process is left as it is.
"""

import __future__

import marshal
import os
import sys
import types
from typing import Any

_FORMAT = "pyvela-attrs-code-1"
_FUTURE = 0
for _name in __future__.all_feature_names:
    _FUTURE |= getattr(__future__, _name).compiler_flag
# attrs writes hash("<attrs generated hash MODULE.CLASS>") into each __hash__ as a literal,
# which changes with the interpreter's hash seed: kept as a placeholder, put back on load.
_HASH_SLOT = "\x00type-hash\x00"  # a NUL never occurs in source that compiles


def cache_root() -> str | None:
    """``$PYVELA_CACHE_DIR``, else ``$XDG_CACHE_HOME/pyvela`` (``~/.cache/pyvela``); None
    when ``PYVELA_CACHE_DIR`` is empty (every cache off) or no absolute directory is known."""
    root = os.environ.get("PYVELA_CACHE_DIR")
    if root is None:
        xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(xdg, "pyvela") if os.path.isabs(xdg) else ""
    return root or None


def install() -> bool:
    """Compile attrs' generated methods through the cache; False when it is off or this attrs
    compiles in a way the cache does not know (then nothing changes)."""
    root = cache_root()
    if root is None:
        return False
    try:
        from attr import _make
    except ImportError:
        return False
    original = getattr(_make, "_compile_and_eval", None)
    code = getattr(original, "__code__", None)
    if getattr(original, "_pyvela_cached", False):
        return True
    if code is None or code.co_varnames[:4] != ("script", "globs", "locs", "filename"):
        return False
    from importlib.util import MAGIC_NUMBER

    folder = os.path.join(root, "attrs", f"{sys.implementation.cache_tag}-{MAGIC_NUMBER.hex()}")
    flags = code.co_flags & _FUTURE  # the future features attrs' own compile() inherits

    def compile_and_eval(
        script: str, globs: dict[str, Any] | None, locs: Any = None, filename: str = ""
    ) -> None:
        eval(cached_code(folder, script, filename, flags), globs, locs)

    compile_and_eval._pyvela_cached = True  # type: ignore[attr-defined]
    _make._compile_and_eval = compile_and_eval
    return True


def cached_code(folder: str, script: str, filename: str, flags: int) -> types.CodeType:
    """The code of ``compile(script, filename, "exec", flags, dont_inherit=True)``, from the
    cache when an entry holds exactly that source, name and flags."""
    type_hash = _type_hash(filename)
    token = f"        {type_hash},"
    key = script.replace(token, f"        {_HASH_SLOT},") if type_hash is not None else script
    file = os.path.join(folder, _file_name(filename))
    try:
        with open(file, "rb") as f:
            entry = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        entry = None
    found = _from_entry(entry, key, filename, flags, type_hash)
    if found is not None:
        return found
    code: types.CodeType = compile(script, filename, "exec", flags, dont_inherit=True)
    _write(file, marshal.dumps((_FORMAT, key, filename, flags, type_hash, code)))
    return code


def _from_entry(
    entry: Any, key: str, filename: str, flags: int, type_hash: int | None
) -> types.CodeType | None:
    if type(entry) is not tuple or len(entry) != 6 or entry[0] != _FORMAT:
        return None
    _, stored, name, stored_flags, old_hash, code = entry
    if stored != key or name != filename or stored_flags != flags or type(code) is not types.CodeType:
        return None
    if old_hash == type_hash:
        return code
    if type(old_hash) is not int or type_hash is None or str(old_hash) in key:
        return None  # the old literal also stands elsewhere: it cannot be told apart
    return _replace_int(code, old_hash, type_hash)


def _replace_int(code: types.CodeType, old: int, new: int) -> types.CodeType:
    return code.replace(co_consts=_replaced(code.co_consts, old, new))


def _replaced(consts: tuple[Any, ...], old: int, new: int) -> tuple[Any, ...]:
    # The literal may stand folded in a tuple constant (``hash((literal,))`` of a class with no
    # compared field), and the methods are functions nested in the script's code.
    return tuple(
        new
        if type(c) is int and c == old
        else _replace_int(c, old, new)
        if type(c) is types.CodeType
        else _replaced(c, old, new)
        if type(c) is tuple
        else c
        for c in consts
    )


def _type_hash(filename: str) -> int | None:
    # "<attrs generated methods MODULE.CLASS>", "-N" added when linecache already held the name
    prefix = "<attrs generated methods "
    if not (filename.startswith(prefix) and filename.endswith(">")):
        return None
    name = filename[len(prefix) : -1]
    base, dash, count = name.rpartition("-")
    return hash(f"<attrs generated hash {base if dash and count.isdigit() else name}>")


def _file_name(filename: str) -> str:
    name = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename.strip("<>"))
    if len(name) > 120:
        import zlib

        name = f"{name[:100]}-{zlib.crc32(filename.encode()):08x}"
    return name + ".code"


def _write(file: str, content: bytes) -> None:
    # Whole or not at all (another process may read it meanwhile); a cache that cannot be
    # written (read-only home, full disk) only costs the next run a compile.
    try:
        os.makedirs(os.path.dirname(file), exist_ok=True)
        part = f"{file}.{os.getpid()}.part"
        with open(part, "wb") as f:
            f.write(content)
        os.replace(part, file)
    except OSError:
        pass
