"""``pyvela convert``'s module variables: never a keyword, never a builtin's name, never twice."""

from __future__ import annotations

from pyvela._app.kubevela.convert_app import _Names


def test_a_component_named_like_a_builtin_gets_a_suffix() -> None:
    names = _Names()
    assert names.variable("list", "component") == "list_component"
    assert names.variable("type", "component") == "type_component"
    assert names.variable("print", "step") == "print_step"


def test_names_never_clash_and_plain_names_stay() -> None:
    names = _Names()
    assert names.variable("web", "component") == "web"
    assert names.variable("web", "step") == "web_step"
    assert names.variable("web", "step") == "web_step2"
    assert names.variable("class", "component") == "app_class"
