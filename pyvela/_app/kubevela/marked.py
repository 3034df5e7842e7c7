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

    @classmethod
    def of(cls, value: Any, where: Location) -> Node:
        """A node for data pyvela writes itself (a generated step), every part at ``where``."""
        out = cls(value, where.file, where.line)
        if isinstance(value, dict):
            for key, item in value.items():
                out._map[key], out._keys[key] = cls.of(item, where), where.line
        elif isinstance(value, list):
            out._items = [cls.of(item, where) for item in value]
        return out

    @classmethod
    def list_of(cls, children: list[Node], where: Location) -> Node:
        """A sequence node of ``children`` (their own locations kept)."""
        out = cls([c.value for c in children], where.file, where.line)
        out._items = list(children)
        return out

    def with_entry(self, key: Any, child: Node) -> Node:
        """A copy of this mapping with ``key`` set to ``child`` (the rest shared)."""
        out = Node({**self.value, key: child.value}, self.file, self.line)
        out._map, out._keys = {**self._map, key: child}, {**self._keys}
        out._keys.setdefault(key, child.line)
        return out

    def with_item(self, index: int, child: Node) -> Node:
        """A copy of this sequence with item ``index`` replaced by ``child``."""
        out = Node(list(self.value), self.file, self.line)
        out._items = list(self._items)
        out.value[index], out._items[index] = child.value, child
        return out

    def set_path(self, path: tuple[str | int, ...], child: Node) -> Node:
        """A copy with ``child`` at ``path`` (mappings on the way created, list items must exist).

        Raises:
            ValueError: the path runs past the end of a list, or through a scalar.
        """
        if not path:
            return child
        head, rest = path[0], path[1:]
        if isinstance(head, int):
            if not self.is_list or head >= len(self._items):
                size = len(self._items) if self.is_list else 0
                raise ValueError(
                    f"[{head}] is past the end of a list of {size}"
                    if self.is_list
                    else f"[{head}] is not a list item"
                )
            return self.with_item(head, self._items[head].set_path(rest, child))
        if self.value is None:
            base = Node({}, self.file, self.line)
        elif self.is_map:
            base = self
        else:
            raise ValueError(f"{head!r} is under a {type(self.value).__name__}, not a mapping")
        inner = base._map.get(head) or Node(None, child.file, child.line)
        return base.with_entry(head, inner.set_path(rest, child))


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
        fix = (
            "save the file as UTF-8 text (a YAML document), or name the right file"
            if isinstance(exc, UnicodeDecodeError)
            else "check the path and that the file is readable"
        )
        raise AppLoadError(f"cannot read {file}: {exc}", where=Location(file, 1), fix=fix) from exc
    loader = _Loader(text)
    docs: list[Node] = []
    try:
        while loader.check_node():
            root = loader.get_node()
            if root is not None:
                doc = _Converter(loader, file, len(text)).convert(root, 0)
                if doc.value is not None:
                    docs.append(doc)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        lines = text.splitlines()
        tabbed = 0 < line <= len(lines) and "\t" in lines[line - 1][: mark.column + 1 if mark else None]
        raise AppLoadError(
            f"{file} is not valid YAML: {exc.problem or exc}",
            where=Location(file, line),
            got=exc.context or None,
            # A tab is the usual cause of "cannot start any token" (copied from a doc or an editor).
            fix="indent with spaces: YAML does not allow tabs there"
            if tabbed
            else "fix the YAML syntax at that line",
        ) from None
    except yaml.YAMLError as exc:
        raise AppLoadError(f"{file} is not valid YAML: {exc}", where=Location(file, 1)) from None
    finally:
        loader.dispose()
    return docs


_MERGE = "tag:yaml.org,2002:merge"
#: Deeper than any Kubernetes object; past it the document is hostile (or broken) input.
MAX_DEPTH = 200


class _Converter:
    """Composed YAML nodes into :class:`Node`s, refusing what would never finish.

    An alias is converted again at every place it is used (each use keeps the data KubeVela
    reads), so a chain of aliases of aliases ("billion laughs") would grow exponentially: the
    nodes converted are bounded by a multiple of the file's length, which no honest reuse of
    anchors reaches. An alias inside its own anchor would recurse forever.
    """

    def __init__(self, loader: Any, file: str, size: int) -> None:
        self.loader, self.file = loader, file
        self.budget = 8 * size + 10_000
        self.open: set[int] = set()  # the nodes being converted: an alias to one is a cycle

    def _fail(self, node: yaml.Node, what: str, fix: str) -> AppLoadError:
        return AppLoadError(what, where=Location(self.file, node.start_mark.line + 1), fix=fix)

    def convert(self, node: yaml.Node, depth: int) -> Node:
        self.budget -= 1
        if self.budget < 0:
            raise self._fail(
                node,
                f"{self.file}'s aliases expand to too many values (an alias of aliases of aliases)",
                "write the values out, or use each anchor without nesting aliases of it",
            )
        if depth > MAX_DEPTH:
            raise self._fail(node, f"the YAML is nested more than {MAX_DEPTH} levels deep", "flatten it")
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self.open:
                raise self._fail(node, "an alias refers to the value that contains it", "break the cycle")
            self.open.add(id(node))
            try:
                return self._collection(node, depth)
            finally:
                self.open.discard(id(node))
        if node.tag == _STR:
            return Node(node.value, self.file, node.start_mark.line + 1)  # skip the constructor's dispatch
        return Node(self.loader.construct_object(node, deep=True), self.file, node.start_mark.line + 1)

    def _collection(self, node: yaml.Node, depth: int) -> Node:
        file, line = self.file, node.start_mark.line + 1
        if isinstance(node, yaml.SequenceNode):
            out = Node([], file, line)
            for item in node.value:
                child = self.convert(item, depth + 1)
                out._items.append(child)
                out.value.append(child.value)
            return out
        # Keys written here (not merged from `<<: *anchor`) override merged ones, as YAML's merge
        # key means; two written keys of one name are the mistake that is refused.
        written = {id(k) for k, _ in node.value if k.tag != _MERGE}
        self.loader.flatten_mapping(node)  # merge keys, as PyYAML's own loader does
        out = Node({}, file, line)
        merged: set[Any] = set()
        for key_node, value_node in node.value:
            key = (
                key_node.value if key_node.tag == _STR else self.loader.construct_object(key_node, deep=True)
            )
            if isinstance(key, list | dict):
                raise AppLoadError(
                    "a mapping key must be a scalar", where=Location(file, key_node.start_mark.line + 1)
                )
            key_line = key_node.start_mark.line + 1
            if key in out._map and key not in merged:
                raise AppLoadError(
                    f"key {key!r} is given twice in the same mapping",
                    where=Location(file, key_line),
                    got=f"first at line {out._keys[key]}",
                    fix="keep one of them (YAML would silently use the last)",
                )
            if id(key_node) in written:
                merged.discard(key)
            else:
                merged.add(key)  # a later merged or written key replaces it (YAML's last-wins for merges)
            child = self.convert(value_node, depth + 1)
            out._map[key] = child
            out._keys[key] = key_line
            out.value[key] = child.value
        return out
