"""pyvela's pytest plugin, loaded by pytest whenever pyvela is installed (entry point ``pytest11``).

Fixtures (each imports pyvela only when a test asks for it, so an unrelated test run starts
as fast as without the plugin):

``pyvela_sandbox``
    a fresh embedded cluster in the test's ``tmp_path`` (also ``$PYVELA_SANDBOX``, so
    ``pyvela`` commands run from the test use it): a :class:`pyvela.testing.Cluster`.
``pyvela_cluster``
    the cluster a test deploys to: the real one under ``@pytest.mark.pyvela_e2e``, else
    ``pyvela_sandbox``.
``render_app``
    ``render_app("apps/shop.py", component=None, defs=None)``: the rendered objects
    (:class:`pyvela.testing.RenderedObjects`).
``deploy_app``
    ``deploy_app("apps/shop.py")``: the app's workflow run on ``pyvela_cluster``; returns a
    :class:`pyvela.testing.Deployed` (``.ok``, ``.phase``, ``.status``, ``.outputs(step)``).
``run_step``
    :func:`pyvela.testing.run_step`: one step driven with canned action results.

Options: ``--pyvela-update-golden`` (rewrite golden files; refused under CI),
``--pyvela-context NAME`` and ``--pyvela-kubeconfig FILE`` (the real cluster for
``pyvela_e2e`` tests). ini: ``pyvela_defs`` (catalogue modules), ``pyvela_ready_delay``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pyvela.testing import Cluster, Deployed, RenderedObjects

MARKER = "pyvela_e2e"
_UPDATING = pytest.StashKey[bool]()
_SET_DEFS = pytest.StashKey[bool]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("pyvela", "pyvela (application delivery) testing")
    group.addoption(
        "--pyvela-update-golden",
        action="store_true",
        help="rewrite golden files (assert_golden) instead of comparing; refused when CI is set",
    )
    group.addoption(
        "--pyvela-context",
        metavar="NAME",
        help="kubeconfig context of the real cluster @pytest.mark.pyvela_e2e tests run on "
        "(without it they are skipped)",
    )
    group.addoption(
        "--pyvela-kubeconfig",
        metavar="FILE",
        help="kubeconfig holding --pyvela-context (default $KUBECONFIG or ~/.kube/config); write "
        "--pyvela-kubeconfig=FILE, with '=', or pytest may take FILE's directory as its rootdir",
    )
    parser.addini(
        "pyvela_defs",
        type="args",
        default=[],
        help="catalogue modules for render_app/deploy_app (default $PYVELA_DEFS, else platform_defs)",
    )
    parser.addini(
        "pyvela_ready_delay",
        default="0",
        help="seconds a workload takes to become ready in pyvela_sandbox (default 0)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(context=None): runs on the real cluster given by --pyvela-context (the one named "
        "by context=, if given); skipped otherwise",
    )
    config.stash[_UPDATING] = False
    defs = config.getini("pyvela_defs")
    if defs and "PYVELA_DEFS" not in os.environ:
        # The project's catalogue for everything in the run: fixtures, pyvela.testing, the CLI.
        os.environ["PYVELA_DEFS"] = ",".join(defs)
        config.stash[_SET_DEFS] = True
    if config.getoption("pyvela_update_golden", False):
        from pyvela import testing

        if testing.in_ci():
            raise pytest.UsageError(
                "--pyvela-update-golden is refused under CI (the CI environment variable is set): "
                "golden files change only on purpose, on a developer's machine, in a reviewed commit. "
                "Run pytest --pyvela-update-golden locally and commit the files it rewrites."
            )
        testing._golden.update = True
        testing._golden.written.clear()
        config.stash[_UPDATING] = True


def pytest_unconfigure(config: pytest.Config) -> None:
    if config.stash.get(_SET_DEFS, False):
        os.environ.pop("PYVELA_DEFS", None)
    if config.stash.get(_UPDATING, False):
        from pyvela import testing

        testing._golden.update = False


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.stash.get(_UPDATING, False):
        return
    from pyvela import testing

    written = testing._golden.written
    terminalreporter.section("pyvela golden files")
    if not written:
        terminalreporter.write_line("--pyvela-update-golden: every golden file was already up to date")
    for path in written:
        terminalreporter.write_line(f"rewritten: {path} (review the change before committing it)")


def _e2e_target(config: pytest.Config, marker: pytest.Mark) -> tuple[str | None, str]:
    """The context the test runs on, or None and why it is skipped."""
    given = config.getoption("pyvela_context", None)
    wanted = marker.kwargs.get("context", marker.args[0] if marker.args else None)
    if not given:
        named = f" (it is written for the cluster of context {wanted!r})" if wanted else ""
        return None, (
            f"pyvela_e2e: no real cluster given{named}; run pytest --pyvela-context NAME "
            "[--pyvela-kubeconfig FILE] to run it"
        )
    if wanted and wanted != given:
        return None, f"pyvela_e2e: written for context {wanted!r}, and --pyvela-context is {given!r}"
    return str(given), ""


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker(MARKER)
    if marker is not None:
        context, why = _e2e_target(item.config, marker)
        if context is None:
            pytest.skip(why)


def pytest_assertrepr_compare(config: pytest.Config, op: str, left: Any, right: Any) -> list[str] | None:
    """``assert rendered == expected`` on Kubernetes objects (or lists of them): each differing
    object and field by its path."""
    if op != "==":
        return None
    if _is_object(left) and _is_object(right):
        from pyvela._core.fielddiff import describe, report

        lines = report(right, left)
        if lines:
            return [f"{describe(left)} == {describe(right)} (expected: the right-hand side)", *lines[1:]]
    elif _are_objects(left) and _are_objects(right):
        from pyvela._core.fielddiff import objects_report

        lines = objects_report(list(right), list(left), want_in="the right-hand side", got_in="the left")
        if lines:
            return ["Kubernetes objects differ (expected: the right-hand side)", *lines]
    return None


def _is_object(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("kind"), str)


def _are_objects(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(_is_object(v) for v in value)


def _defs(config: pytest.Config, defs: Sequence[str] | None) -> Sequence[str] | None:
    if defs:
        return defs
    configured: list[str] = config.getini("pyvela_defs")
    return configured or None


def _path(config: pytest.Config, app: Any) -> Any:
    # A relative path names a file under the project (pytest's rootdir), wherever pytest runs.
    if isinstance(app, str | os.PathLike):
        path = Path(app)
        if not path.is_absolute() and not path.exists() and (config.rootpath / path).exists():
            return config.rootpath / path
    return app


@pytest.fixture
def pyvela_sandbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Cluster]:
    """A fresh embedded cluster for this test, in ``tmp_path``."""
    from pyvela.testing import sandbox_cluster

    root = tmp_path / "pyvela-sandbox"
    monkeypatch.setenv("PYVELA_SANDBOX", str(root))
    delay = float(request.config.getini("pyvela_ready_delay"))
    cluster = sandbox_cluster(root, ready_delay=delay, defs=_defs(request.config, None))
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def pyvela_cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    """The real cluster under ``@pytest.mark.pyvela_e2e`` (apps it deployed are deleted after the
    test), else the test's sandbox."""
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        yield request.getfixturevalue("pyvela_sandbox")
        return
    context, why = _e2e_target(request.config, marker)
    if context is None:  # pragma: no cover - pytest_runtest_setup skipped it already
        pytest.skip(why)
    from pyvela.testing import real_cluster

    cluster = real_cluster(
        context, request.config.getoption("pyvela_kubeconfig", None), defs=_defs(request.config, None)
    )
    try:
        yield cluster
    finally:
        problems = cluster.clean_up()
        cluster.close()
        if problems:
            pytest.fail("apps this test deployed could not be deleted: " + "; ".join(problems), pytrace=False)


@pytest.fixture
def render_app(request: pytest.FixtureRequest) -> Callable[..., RenderedObjects]:
    """``render_app(app, component=None, defs=None)``: the app's rendered objects, no cluster
    (``app``: a file, a loaded app, or an ``Application`` built in the test)."""
    from pyvela.testing import render

    def rendered(
        app: Any, *, component: str | None = None, defs: Sequence[str] | None = None
    ) -> RenderedObjects:
        # A file, a loaded app, or an Application built in the test.
        return render(_path(request.config, app), component=component, defs=_defs(request.config, defs))

    return rendered


@pytest.fixture
def deploy_app(request: pytest.FixtureRequest, pyvela_cluster: Cluster) -> Callable[..., Deployed]:
    """``deploy_app(app, defs=None, namespace=None)``: deploy on ``pyvela_cluster``, return its status."""

    def deployed(app: Any, *, defs: Sequence[str] | None = None, namespace: str | None = None) -> Deployed:
        return pyvela_cluster.deploy(_path(request.config, app), defs=defs, namespace=namespace)

    return deployed


@pytest.fixture
def run_step() -> Callable[..., Any]:
    """:func:`pyvela.testing.run_step`: drive one step with canned action results."""
    from pyvela.testing import run_step as run

    return run
