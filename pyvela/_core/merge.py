"""Patching workloads: dicts merge deeply, lists of named things merge by key.

KubeVela merges a trait's patch into the workload with CUE and ``+patchKey`` markers; a
missing marker silently replaces the list (the seed's ``apply-proxy`` bug). Here the keys
are explicit and known for the Kubernetes lists that have them, and helpers address
containers and environment variables by *name*, never by position.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from pyvela._core.objects import Obj, deep_copy
from pyvela.errors import RenderError

#: List fields merged by a key, as Kubernetes' strategic merge patch does.
MERGE_KEYS: Mapping[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "envFrom": "prefix",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "tolerations": "key",
    "hostAliases": "ip",
}


@attrs.frozen
class Replace:
    """A patch value set as it is instead of merged into what is there: a list merged by
    key replaced whole (RFC 7396 merge patches and KubeVela's ``+patchStrategy=replace``).
    Meaningful where the patch meets a field of the workload; the workload holds ``value``."""

    value: Any


def merge(base: Obj, patch: Mapping[str, Any], *, keys: Mapping[str, str] = MERGE_KEYS) -> Obj:
    """Return ``base`` with ``patch`` merged in; neither argument is modified.

    Mappings merge recursively; a ``None`` value in the patch deletes the key; lists whose
    field name has a merge key merge item by item on that key (new items are appended);
    other lists and scalars are replaced; a :class:`Replace` value is set as it holds.
    """
    out: Obj = deep_copy(base)
    _merge_into(out, patch, keys, path="")
    return out


def merge_into(target: Obj, patch: Mapping[str, Any], *, keys: Mapping[str, str] = MERGE_KEYS) -> None:
    """Merge ``patch`` into ``target`` in place (as :func:`merge`, without copying ``target``:
    for a caller that owns it). Values taken from ``patch`` are copied."""
    _merge_into(target, patch, keys, path="")


def _merge_into(target: dict[str, Any], patch: Mapping[str, Any], keys: Mapping[str, str], path: str) -> None:
    for name, value in patch.items():
        here = f"{path}.{name}" if path else name
        if value is None:
            target.pop(name, None)
        elif type(value) is Replace:
            target[name] = deep_copy(value.value)
        elif isinstance(value, Mapping) and isinstance(target.get(name), dict):
            _merge_into(target[name], value, keys, here)
        elif isinstance(value, list) and name in keys and isinstance(target.get(name), list):
            target[name] = _merge_list(target[name], value, keys[name], keys, here)
        else:
            target[name] = deep_copy(value)


def _merge_list(
    current: list[Any], patch: list[Any], key: str, keys: Mapping[str, str], path: str
) -> list[Any]:
    out = list(current)
    index = {item.get(key): i for i, item in enumerate(out) if isinstance(item, dict)}
    for item in patch:
        if not isinstance(item, Mapping) or key not in item:
            raise RenderError(
                f"cannot merge into {path}: every item must have {key!r}",
                expected=f"a list of mappings with {key!r}",
                got=repr(item)[:80],
            )
        at = index.get(item[key])
        if at is None:
            index[item[key]] = len(out)
            out.append(deep_copy(dict(item)))
        else:
            merged = deep_copy(out[at])
            _merge_into(merged, item, keys, f"{path}[{key}={item[key]}]")
            out[at] = merged
    return out


def pod_spec(workload: Mapping[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload (Deployment, StatefulSet, Rollout, Job, Pod...)."""
    if workload.get("kind") == "Pod":
        spec = workload.get("spec")
    else:
        spec = (workload.get("spec") or {}).get("template", {}).get("spec")
        if spec is None and workload.get("kind") == "CronJob":
            spec = workload["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    if not isinstance(spec, dict):
        raise RenderError(f"{workload.get('kind')} has no pod template", got=str(workload.get("kind")))
    return spec


def find_container(workload: Mapping[str, Any], name: str, *, init: bool = False) -> dict[str, Any]:
    """The container called ``name``; RenderError listing the containers when absent."""
    field = "initContainers" if init else "containers"
    containers = pod_spec(workload).get(field) or []
    for c in containers:
        if c.get("name") == name:
            result: dict[str, Any] = c
            return result
    raise RenderError(
        f"no container named {name!r} in {workload.get('kind')} {workload.get('metadata', {}).get('name')!r}",
        expected="one of " + ", ".join(repr(c.get("name")) for c in containers),
        got=repr(name),
    )


def set_env(workload: Obj, container: str, name: str, value: str) -> None:
    """Set env var ``name`` of ``container`` in place, adding it when absent."""
    env = find_container(workload, container).setdefault("env", [])
    for var in env:
        if var.get("name") == name:
            var.pop("valueFrom", None)
            var["value"] = value
            return
    env.append({"name": name, "value": value})


def set_image(workload: Obj, container: str, image: str) -> None:
    """Set the image of ``container`` in place."""
    find_container(workload, container)["image"] = image


def env_patch(container: str, env: Mapping[str, str]) -> dict[str, Any]:
    """A workload patch that sets ``env`` on ``container``, merged by name."""
    return {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": container, "env": [{"name": k, "value": v} for k, v in env.items()]}
                    ]
                }
            }
        }
    }
