"""``pyvela new platform|app|component|trait|step NAME``: a typed definition, its test and its docs.

Written from the jinja2 templates in ``templates/new/``. What it writes passes ``mypy
--strict``, ``ruff check``, ``ruff format --check`` and ``pytest`` as written (tested): the
golden files its tests compare with are rendered here, from the code just written, so the
first ``pytest`` passes and the next change shows as a diff. Nothing is overwritten.
"""

from __future__ import annotations

import argparse
import importlib.util
import keyword
import re
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pyvela.errors import AppError, PyvelaError

KINDS = ("platform", "app", "component", "trait", "step")
NAME = re.compile(r"^[a-z]([a-z0-9-]*[a-z0-9])?$")
#: What each kind of definition holds, for its docstring and docs stub.
SUMMARIES = {
    "component": "a web service as a Deployment, probed, with resources set",
    "trait": "a Service in front of a component's pods",
    "step": "apply a component and wait until it is ready",
    "app": "an example app of the platform",
    "platform": "a platform for application delivery with pyvela",
}
STARTER_COMPONENT = "service"
STARTER_APP = "hello"


class ScaffoldError(AppError):
    """``pyvela new`` cannot write what it was asked to."""


def cmd_new(args: argparse.Namespace) -> int:
    out = Path(args.output_dir or ".")
    if args.kind == "platform":
        written = new_platform(args.name, out)
    elif args.kind == "app":
        written = new_app(args.name, out, component=args.component)
    else:
        written = new_definition(args.kind, args.name, out)
    for path in written:
        print(f"wrote {path}")
    return 0


def new_platform(name: str, out: Path) -> list[Path]:
    """A project in ``out/name``: its package, config, guardrails, a starter component and app."""
    ident = _identifier(name, "platform")
    root = out / name
    if root.exists() and any(root.iterdir()):
        raise ScaffoldError(
            f"{root} already exists and is not empty",
            fix=f"pick another name, or another directory with -o (pyvela new platform {name} -o DIR)",
        )
    values = {"name": name, "pkg": ident, "summary": SUMMARIES["platform"], "starter_app": STARTER_APP}
    files = {
        root / "pyproject.toml": _render("pyproject.toml.j2", values),
        root / "README.md": _render("README.md.j2", values),
        root / ".gitignore": _render("gitignore.j2", values),
        root / ident / "__init__.py": _render("package_init.py.j2", values),
        root / ident / "py.typed": "",
        root / ident / "guardrails.py": _render("guardrails.py.j2", values),
    }
    for sub, what in (("components", "components"), ("traits", "traits"), ("steps", "workflow steps")):
        files[root / ident / sub / "__init__.py"] = f'"""The platform\'s {what}, one module each."""\n'
    written = _write(files)
    written += new_definition("component", STARTER_COMPONENT, root)
    written += new_app(STARTER_APP, root, component=STARTER_COMPONENT)
    return written


def new_definition(kind: str, name: str, project: Path) -> list[Path]:
    """A component, trait or step module in the project's package, its test and docs stub."""
    pkg = platform_package(project)
    ident = _identifier(name, kind)
    values = {"name": name, "ident": ident, "cls": _class_name(name), "pkg": pkg, "summary": SUMMARIES[kind]}
    package_dir = project / pkg / f"{kind}s"
    files = {
        package_dir / f"{ident}.py": _render(f"{kind}.py.j2", values),
        project / "tests" / f"test_{kind}_{ident}.py": _render(f"{kind}_test.py.j2", values),
        project / "docs" / f"{kind}s" / f"{name}.md": _render(f"{kind}.md.j2", values),
    }
    if not (package_dir / "__init__.py").exists():
        files[package_dir / "__init__.py"] = f'"""The platform\'s {kind}s, one module each."""\n'
    written = _write(files)
    written.append(_golden(project, pkg, project / "tests" / f"test_{kind}_{ident}.py"))
    return written


def new_app(name: str, project: Path, *, component: str | None = None) -> list[Path]:
    """An app module in ``apps/`` using one of the platform's components, its test and docs."""
    pkg = platform_package(project)
    ident = _identifier(name, "app")
    if ident == pkg:  # apps/<pkg>.py would shadow the package for mypy (two modules of one name)
        raise ScaffoldError(
            f"an app cannot be named after the platform's package {pkg!r}",
            fix=f"e.g. pyvela new app {name}-app",
        )
    chosen = component or STARTER_COMPONENT
    component_ident = _identifier(chosen, "component")
    module = project / pkg / "components" / f"{component_ident}.py"
    if not module.is_file() or f"def {component_ident}(" not in module.read_text(encoding="utf-8"):
        raise ScaffoldError(
            f"the app would use component {chosen!r}, and {module} does not define {component_ident}()",
            fix=f"name a component the platform has with --component, or create it first: "
            f"pyvela new component {chosen}",
        )
    values = {
        "name": name,
        "ident": ident,
        "pkg": pkg,
        "summary": SUMMARIES["app"],
        "component_ident": component_ident,
        "component_name": chosen,
    }
    test = project / "tests" / f"test_app_{ident}.py"
    written = _write(
        {
            project / "apps" / f"{ident}.py": _render("app.py.j2", values),
            test: _render("app_test.py.j2", values),
            project / "docs" / "apps" / f"{name}.md": _render("app.md.j2", values),
        }
    )
    written.append(_golden(project, pkg, test))
    return written


def platform_package(project: Path) -> str:
    """The package ``[tool.pyvela] package`` in the project's pyproject.toml names."""
    config = project / "pyproject.toml"
    try:
        data = tomllib.loads(config.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScaffoldError(f"cannot read {config}: {exc}", file=str(config)) from exc
    pkg = data.get("tool", {}).get("pyvela", {}).get("package")
    if not isinstance(pkg, str) or not (project / pkg / "__init__.py").is_file():
        raise ScaffoldError(
            f"{project} is not a pyvela platform project (no [tool.pyvela] package in {config}"
            + (f", or no package {pkg!r} beside it" if isinstance(pkg, str) else "")
            + ")",
            fix="run it in a project made by `pyvela new platform NAME` (or pass -o PROJECT_DIR), "
            'or add [tool.pyvela] package = "your_package" to its pyproject.toml',
        )
    return pkg


def _identifier(name: str, kind: str) -> str:
    ident = name.replace("-", "_")
    if not NAME.match(name) or "--" in name or keyword.iskeyword(ident) or ident in sys.stdlib_module_names:
        raise ScaffoldError(
            f"{name!r} cannot name a {kind}",
            expected="lowercase letters, digits and single dashes, starting with a letter "
            "(web-service); not a Python keyword or standard module",
            got=repr(name),
            fix=f"e.g. pyvela new {kind} my-{kind}",
        )
    return ident


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def _render(template: str, values: dict[str, Any]) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pyvela._cli", "templates/new"),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Python, TOML and Markdown, never HTML
    )
    return env.get_template(template).render(**values)


def _write(files: dict[Path, str]) -> list[Path]:
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise ScaffoldError(
            f"refusing to overwrite {', '.join(existing)}",
            fix="pick another name, or move the existing files away first",
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)


def _golden(project: Path, pkg: str, test: Path) -> Path:
    """Render the example a generated test compares with, into its golden file."""
    with _isolated_imports(project, pkg):
        spec = importlib.util.spec_from_file_location(f"_pyvela_scaffold_{test.stem}", test)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
            text = _golden_text(module.example() if hasattr(module, "example") else module.APP, pkg)
        except PyvelaError:
            raise
        except Exception as exc:  # the project's code, as it is now: say where it failed
            raise ScaffoldError(
                f"the generated {test.name} cannot render its example: {type(exc).__name__}: {exc}",
                file=str(test),
                fix="fix the definition it uses (or the component the app names), then run "
                "pytest --pyvela-update-golden to write the golden file",
            ) from exc
    golden = test.parent / "golden" / Path(module.GOLDEN).name  # said as the other paths are
    return _write({golden: text})[0]


def _golden_text(example: Any, pkg: str) -> str:
    # Exactly what the generated test's assert_golden / assert_trace_golden would write.
    from pyvela import testing

    if isinstance(example, testing.StepTrace):
        return testing._trace_text(example)
    return testing._golden_text(testing.render(example, defs=[pkg]).objects)


@contextmanager
def _isolated_imports(project: Path, pkg: str) -> Iterator[None]:
    # The project's package is imported from the project just written, and forgotten after,
    # so a second scaffold in the same process never sees a stale copy.
    def forget() -> None:
        for name in [m for m in sys.modules if m == pkg or m.startswith(pkg + ".")]:
            del sys.modules[name]

    forget()
    saved = list(sys.path)
    sys.path.insert(0, str(project.resolve()))
    importlib.invalidate_caches()
    try:
        yield
    finally:
        forget()
        sys.path[:] = saved  # loading an app adds its project too
