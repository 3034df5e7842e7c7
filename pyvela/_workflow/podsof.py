"""Which Pods belong to which component of an app: from the objects its state record lists.

A Pod is a component's when the component's inventory holds the Pod itself or one of its
owners, followed up the ``ownerReferences`` chain (a Deployment's Pods are owned by its
ReplicaSets, a CronJob's by its Jobs, a Rollout's by its ReplicaSets): the same answer
``kubectl`` gives, and it needs no knowledge of each kind's selector. A chart's objects
belong to the component of their HelmRelease (helm's release annotations). Only the namespaces
the inventory names are listed, once each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._backends.protocol import Backend
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj, ObjectRef
from pyvela._workflow.state import StateStore
from pyvela.errors import NotFoundError, StateError, UnknownKindError

#: How far up the owner chain a Pod's component is looked for (Pod <- ReplicaSet <- Deployment,
#: Pod <- Job <- CronJob; one more for an operator's own object in between).
MAX_DEPTH = 4
#: helm's annotations on every object of a release.
HELM_RELEASE_NAME, HELM_RELEASE_NAMESPACE = "meta.helm.sh/release-name", "meta.helm.sh/release-namespace"


@attrs.frozen
class AppPods:
    """An app's components (in the order they were applied) and the Pods of each (by name)."""

    app: str
    namespace: str
    components: tuple[str, ...]
    pods: Mapping[str, tuple[Obj, ...]]

    def of(self, component: str | None) -> list[Obj]:
        """The Pods of ``component`` (every component's when None); NotFoundError naming the known ones."""
        if component is None:
            return [p for c in self.components for p in self.pods.get(c, ())]
        if component not in self.components:
            raise NotFoundError(
                f"app {self.app!r} has no component {component!r}",
                expected="one of " + (", ".join(self.components) or "(no components deployed)"),
                got=component,
                fix="pick a component from `pyvela status`",
            )
        return list(self.pods.get(component, ()))


def app_pods(backend: Backend, app: str, namespace: str) -> AppPods:
    """The Pods of every component of ``app`` as the latest revision's inventory records it."""
    record = StateStore(backend, app, namespace).load(revisions="latest")
    if not record or not record.get("revisions"):
        raise StateError(
            f"app {app!r} was never deployed to namespace {namespace!r} of {backend.description}",
            fix="run `pyvela deploy` first, or pass -n NAMESPACE",
        )
    rev = record["revisions"][-1]
    inventory = rev.get("inventory") or []
    owned: dict[ObjectRef, str] = {}
    components = spec_components(rev)
    for entry in inventory:
        component = entry.get("component")
        if not component:
            continue
        if component not in components:
            components.append(component)
        owned[ObjectRef.from_dict(entry["ref"])] = component
    namespaces = sorted({ref.namespace for ref in owned if ref.namespace})
    found: dict[str, list[Obj]] = {}
    owners = _Owners(backend)
    for ns in namespaces:
        for pod in backend.list("v1", "Pod", ns):
            component = owners.component_of(pod, owned)
            if component is not None:
                found.setdefault(component, []).append(pod)
    pods = {c: tuple(sorted(ps, key=lambda p: str(p["metadata"]["name"]))) for c, ps in found.items()}
    return AppPods(app=app, namespace=namespace, components=tuple(components), pods=pods)


def _helm_release(obj: Obj) -> ObjectRef | None:
    """The HelmRelease an object of a chart belongs to: helm annotates each object it installs
    with its release's name and namespace."""
    annotations = (obj.get("metadata") or {}).get("annotations") or {}
    name, namespace = annotations.get(HELM_RELEASE_NAME), annotations.get(HELM_RELEASE_NAMESPACE)
    if not isinstance(name, str) or not isinstance(namespace, str):
        return None
    return ObjectRef(HELM_API_VERSION, HELM_KIND, namespace, name)


def spec_components(rev: Mapping[str, Any]) -> list[str]:
    """The revision's components in the order the app lists them (its recorded spec)."""
    spec = rev.get("spec") or {}
    return [str(c["name"]) for c in spec.get("components") or [] if isinstance(c, Mapping) and c.get("name")]


class _Owners:
    """The owner chain of objects, each owner read once."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self._read: dict[ObjectRef, Obj | None] = {}

    def component_of(self, obj: Obj, owned: Mapping[ObjectRef, str]) -> str | None:
        current: Obj | None = obj
        for _ in range(MAX_DEPTH + 1):
            if current is None:
                return None
            ref = ObjectRef.of(current)
            if ref in owned:
                return owned[ref]
            release = _helm_release(current)
            if release is not None and release in owned:  # a chart's object: its HelmRelease's component
                return owned[release]
            current = self._owner(current)
        return None

    def _owner(self, obj: Obj) -> Obj | None:
        meta: Mapping[str, Any] = obj.get("metadata") or {}
        refs = [r for r in meta.get("ownerReferences") or [] if isinstance(r, Mapping)]
        chosen = next((r for r in refs if r.get("controller")), refs[0] if refs else None)
        if chosen is None:
            return None
        ref = ObjectRef(
            str(chosen.get("apiVersion")),
            str(chosen.get("kind")),
            str(meta.get("namespace") or ""),
            str(chosen.get("name")),
        )
        if ref not in self._read:
            try:
                self._read[ref] = self.backend.get(ref)
            except (NotFoundError, UnknownKindError):  # a kind the cluster no longer serves
                self._read[ref] = None
        live = self._read[ref]
        if (
            live is not None
            and chosen.get("uid")
            and (live.get("metadata") or {}).get("uid") != chosen["uid"]
        ):
            return None  # a namesake made after the owner went: not this object's owner
        # The owner as the inventory knows it: the same ref whether or not it is still there.
        return (
            live
            if live is not None
            else {
                "apiVersion": ref.api_version,
                "kind": ref.kind,
                "metadata": {"name": ref.name, "namespace": ref.namespace},
            }
        )
