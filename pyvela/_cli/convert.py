"""``pyvela convert FILE.yaml… -o DIR``: KubeVela YAML into Python modules."""

from __future__ import annotations

import argparse
from pathlib import Path

from pyvela._app.loader import definition_modules


def cmd_convert(args: argparse.Namespace) -> int:
    """Write the modules, then say what was written and what is left to do by hand."""
    from pyvela._app.kubevela.convert import convert

    # With no --defs, the definitions of the files given are the catalogue, over the standard
    # library; PYVELA_DEFS or platform_defs are used only when the files define nothing.
    modules = tuple(args.defs) if args.defs else None
    result = convert([Path(f) for f in args.files], Path(args.output_dir), modules, definition_modules())
    for file in result.files:
        print(f"wrote {file}")
    if not result.formatted:
        print("ruff is not on PATH: the modules are written as generated (well-formed, not reformatted)")
    if result.todos:
        print(f"left to do by hand ({len(result.todos)}; marked TODO(convert) in the modules):")
        for todo in result.todos:
            print(f"  - {todo}")
    return 0
