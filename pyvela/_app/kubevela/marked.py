"""YAML documents that remember where each value was written (file and line).

Every error about a KubeVela file names the line of the offending key or value, so the
documents are composed into nodes (which carry marks) and each node keeps its plain
value next to its children. libyaml's composer is used when PyYAML was built with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from pyvela.errors import AppLoadError, Location

try:  # libyaml parses several times faster; its nodes carry the same marks
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


_STR = "tag:yaml.org,2002:str"


class Node:
    """A YAML value (plain Python data in :attr:`value`) with its location and children."""

    __slots__ = ("_items", "_keys", "_map", "file", "line", "value")

    def __init__(self, value: Any, file: str, line: int) -> None:
        self.value = value
        self.file = file
        self.line = line
        self._map: dict[Any, Node] = {}
        self._keys: dict[Any, int] = {}
        self._items: list[Node] = []

    @property
    def where(self) -> Location:
        return Location(self.file, self.line)

    def key_where(self, key: Any) -> Location:
        """Where ``key`` is written in this mapping (this node's line when it is absent)."""
        return Location(self.file, self._keys.get(key, self.line))

    def get(self, key: Any) -> Node | None:
        return self._map.get(key)

    def __getitem__(self, key: Any) -> Node:
        return self._map[key]

    def keys(self) -> list[Any]:
        return list(self._map)

    def entries(self) -> Iterator[tuple[Any, Node]]:
        return iter(self._map.items())

    def items(self) -> list[Node]:
        """The items of a sequence node."""
        return list(self._items)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)


def load_documents(path: Path) -> list[Node]:
    """Every non-empty document of the YAML file at ``path``.

    Raises:
        AppLoadError: unreadable file, a YAML syntax error, or a key given twice in a mapping
            (PyYAML would silently keep the last one), with the line.
    """
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AppLoadError(f"cannot read {file}: {exc}", where=Location(file, 1)) from exc
    loader = _Loader(text)
    docs: list[Node] = []
    try:
        while loader.check_node():
            root = loader.get_node()
            if root is not None:
                doc = _convert(loader, root, file)
                if doc.value is not None:
                    docs.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise AppLoadError(
            f"{file} is not valid YAML: {exc.problem or exc}",
            where=Location(file, line),
            got=exc.context or None,
            fix="fix the YAML syntax at that line",
        ) from None
    except yaml.YAMLError as exc:
        raise AppLoadError(f"{file} is not valid YAML: {exc}", where=Location(file, 1)) from None
    finally:
        loader.dispose()
    return docs


def _convert(loader: Any, node: yaml.Node, file: str) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # `<<: *anchor` merge keys, as PyYAML's own loader does
        out = Node({}, file, line)
        for key_node, value_node in node.value:
            key = key_node.value if key_node.tag == _STR else loader.construct_object(key_node, deep=True)
            if isinstance(key, list | dict):
                raise AppLoadError(
                    "a mapping key must be a scalar", where=Location(file, key_node.start_mark.line + 1)
                )
            key_line = key_node.start_mark.line + 1
            if key in out._map:
                raise AppLoadError(
                    f"key {key!r} is given twice in the same mapping",
                    where=Location(file, key_line),
                    got=f"first at line {out._keys[key]}",
                    fix="keep one of them (YAML would silently use the last)",
                )
            child = _convert(loader, value_node, file)
            out._map[key] = child
            out._keys[key] = key_line
            out.value[key] = child.value
        return out
    if isinstance(node, yaml.SequenceNode):
        out = Node([], file, line)
        for item in node.value:
            child = _convert(loader, item, file)
            out._items.append(child)
            out.value.append(child.value)
        return out
    if node.tag == _STR:
        return Node(node.value, file, line)  # most scalars: skip the constructor's dispatch
    return Node(loader.construct_object(node, deep=True), file, line)
