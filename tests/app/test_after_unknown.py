"""An order on a step or component that does not exist (``.after("ghost")``, KubeVela's
``dependsOn``) is one message at the ``.after()`` call: what, the names that exist, the
closest one, and the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyvela import load_app
from pyvela._app.references import closest
from pyvela.errors import DanglingReferenceError

WriteApp = Callable[..., Path]
DEFS = ["platform_defs", "tests.sample_defs"]


def test_a_mistyped_step_is_reported_at_the_after_call_with_the_closest_name(write_app: WriteApp) -> None:
    path = write_app(
        """
        from pyvela import Application
        from tests.sample_defs import noop

        first = noop("apply-web")
        second = noop("notify")
        second = second.after(
            "apply-wbe"
        )
        app = Application("a", components=[], workflow=[first, second])
        """
    )
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path, defs=DEFS)
    err = info.value
    assert err.where is not None and err.where.line == 6  # the .after() call, not noop("notify")
    assert err.context["step"] == "notify"
    assert "unknown step 'apply-wbe'" in err.message
    assert "'apply-web'" in (err.expected or "") and "did you mean 'apply-web'?" in (err.expected or "")
    assert err.fix is not None and ".after('apply-web')" in err.fix


def test_a_group_ordered_after_a_ghost_names_the_groups_call(write_app: WriteApp) -> None:
    path = write_app(
        """
        from pyvela import Application, StepGroup
        from tests.sample_defs import noop

        first = noop("first")
        group = StepGroup(name="grp", steps=[noop("inner")])
        group = group.after("ghost")
        app = Application("a", components=[], workflow=[first, group])
        """
    )
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path, defs=DEFS)
    err = info.value
    assert err.where is not None and err.where.line == 6
    assert "'first'" in (err.expected or "") and "'grp'" in (err.expected or "")
    assert "did you mean" not in (err.expected or "")  # nothing close to 'ghost'
    assert err.fix is not None and "add a step named 'ghost'" in err.fix


def test_a_component_ordered_after_a_ghost(write_app: WriteApp) -> None:
    path = write_app(
        """
        from pyvela import Application
        from pyvela.stdlib import webservice

        web = webservice("web", image="nginx:1.27")
        db = webservice("db", image="nginx:1.27")
        db = db.after("wbe")
        app = Application("a", components=[web, db])
        """
    )
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path, defs=DEFS)
    err = info.value
    assert err.where is not None and err.where.line == 6
    assert err.context["component"] == "db" and "did you mean 'web'?" in (err.expected or "")
    assert err.fix is not None and ".after('web')" in err.fix


def test_kubevela_depends_on_a_ghost_says_depends_on(write_app: WriteApp) -> None:
    path = write_app(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: ghosty}
        spec:
          components:
            - name: web
              type: webservice
              properties: {image: "nginx:1.27"}
          workflow:
            steps:
              - name: one
                type: apply-component
                properties: {component: web}
              - name: two
                type: suspend
                dependsOn: [onee]
        """,
        name="app.yaml",
    )
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path)
    err = info.value
    assert err.where is not None and err.where.file.endswith("app.yaml")
    assert "(dependsOn)" in err.message and "did you mean 'one'?" in (err.expected or "")
    assert err.fix is not None and "dependsOn: [one]" in err.fix and ".after" not in err.fix


def test_closest_only_suggests_a_likely_typo() -> None:
    assert closest("apply-bsae", ["apply-base", "apply-proxy"]) == "apply-base"
    assert closest("ghost", ["apply-base", "apply-proxy"]) is None


def test_a_one_component_app_says_it_has_no_other_component(write_app: WriteApp) -> None:
    # The listing leaves the component itself out (it cannot follow itself), so a
    # one-component app used to be told to pick "one of the app's components: (none)".
    path = write_app(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: lonely}
        spec:
          components:
            - name: express-server
              type: webservice
              properties: {image: "nginx:1.27"}
              dependsOn: [nothere]
        """,
        name="app.yaml",
    )
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path)
    err = info.value
    expected = err.expected or ""
    assert "(none)" not in expected
    assert "no other component than 'express-server'" in expected
    assert err.fix is not None and "remove the order on 'nothere'" in err.fix


def test_a_ghost_with_a_far_name_still_lists_the_other_components(write_app: WriteApp) -> None:
    path = write_app(
        """
        apiVersion: core.oam.dev/v1beta1
        kind: Application
        metadata: {name: pair}
        spec:
          components:
            - name: express-server
              type: webservice
              properties: {image: "nginx:1.27"}
              dependsOn: [express-servre]
            - name: database
              type: webservice
              properties: {image: "nginx:1.27"}
        """,
        name="app.yaml",
    )
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path)
    expected = info.value.expected or ""
    assert "one of the app's other components: 'database'" in expected
    assert "'express-server'" not in expected.split("(")[0]  # a component cannot follow itself


def test_a_one_step_workflow_says_it_has_no_other_step(write_app: WriteApp) -> None:
    path = write_app(
        """
        from pyvela import Application
        from tests.sample_defs import noop

        only = noop("only").after("ghost")
        app = Application("a", components=[], workflow=[only])
        """
    )
    with pytest.raises(DanglingReferenceError) as info:
        load_app(path, defs=DEFS)
    expected = info.value.expected or ""
    assert "(none)" not in expected and "no other step than 'only'" in expected
