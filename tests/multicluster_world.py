"""The control sandbox and three named sandboxes around it, as a multi-cluster run sees them
(``sandbox:gz`` is labelled env=test, the others env=prod)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pyvela._backends.clusters import ClusterInfo, ClusterSet
from pyvela._backends.fleet import Fleet
from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import ObjectRef
from tests.runner_helpers import DEFS, sandbox

NAMES = ("sandbox:bj", "sandbox:sh", "sandbox:gz")
LABELS = {
    "sandbox:bj": {"region": "north", "env": "prod"},
    "sandbox:sh": {"region": "east", "env": "prod"},
    "sandbox:gz": {"region": "south", "env": "test"},
}
MC_DEFS = [*DEFS, "tests.multicluster_defs"]


class World:
    """The control sandbox and three named ones, as a run sees them."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.local = sandbox(root / "local")
        self.boxes: dict[str, Sandbox] = {n: sandbox(root / n.replace(":", "-")) for n in NAMES}
        self.broken: set[str] = set()

    def unreachable(self, name: str) -> None:
        """From now on, cluster ``name`` cannot be opened (its sandbox path is a plain file)."""
        (self.root / ("broken-" + name.replace(":", "-"))).write_text("not a directory")
        self.broken.add(name)

    def fleet(self) -> Fleet:
        infos = [ClusterInfo(name="local", kind="sandbox", sandbox=str(self.root / "local"))]
        opened: dict[str, Any] = {"local": self.local}
        for name in NAMES:
            where = self.root / (
                "broken-" + name.replace(":", "-") if name in self.broken else name.replace(":", "-")
            )
            infos.append(ClusterInfo(name=name, kind="sandbox", sandbox=str(where), labels=LABELS[name]))
            if name not in self.broken:
                opened[name] = self.boxes[name]
        return Fleet(self.local, ClusterSet(infos, opened=opened))

    def deployment(self, cluster: str, name: str, namespace: str = "shop") -> dict[str, Any] | None:
        box = self.local if cluster == "local" else self.boxes[cluster]
        return box.get(ObjectRef("apps/v1", "Deployment", namespace, name))

    def close(self) -> None:
        for b in (self.local, *self.boxes.values()):
            b.close()
