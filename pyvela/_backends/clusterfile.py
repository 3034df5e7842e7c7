"""The cluster file (``clusters.yaml``): the named clusters a run may target, with their labels.

Found at ``--clusters FILE``, else ``$PYVELA_CLUSTERS``, else ``./clusters.yaml`` (absent: no
declared clusters). It names clusters; it never holds a credential (a kube cluster points at
a kubeconfig context, whose credentials stay in the kubeconfig)::

    clusters:
      local:                      # the control target (--context, or the default sandbox)
        labels: {region: cn-north}
      sandbox:eu:                 # a named sandbox: its own embedded cluster
        labels: {region: eu}
      beijing:                    # a kubeconfig context called beijing
        labels: {region: cn-north, env: prod}
      shanghai:
        context: arn:aws:eks:cn-east-1:1234:cluster/sh   # the context, when not the name
        kubeconfig: ~/.kube/shanghai.yaml                # default --kubeconfig, $KUBECONFIG...
        labels: {region: cn-east}

Every problem is reported at its file:line. The kubeconfig is read here only for its
context names (never printed: the rest of it is credentials).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from pyvela.errors import ClusterError, Location

ENV_CLUSTERS = "PYVELA_CLUSTERS"
CLUSTER_FILE = "clusters.yaml"
LOCAL = "local"
SANDBOX_PREFIX = "sandbox:"
_ENTRY_KEYS = ("labels", "context", "kubeconfig")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_LABEL_NAME = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)")
_LABEL_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?")
_CLUSTER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@/-]*")


@attrs.frozen(kw_only=True)
class Declared:
    """One entry of the cluster file, as written."""

    name: str
    labels: Mapping[str, str]
    context: str | None
    kubeconfig: str | None
    where: Location


def cluster_file_path(
    explicit: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> Path | None:
    """The cluster file to read: ``explicit`` (must exist), $PYVELA_CLUSTERS (must exist), or
    ``./clusters.yaml`` when it exists; None when there is none."""
    env = os.environ if environ is None else environ
    for given, origin in ((explicit, "--clusters"), (env.get(ENV_CLUSTERS) or None, ENV_CLUSTERS)):
        if given:
            path = Path(given).expanduser()
            if not path.is_file():
                raise ClusterError(
                    f"the cluster file {path} (from {origin}) "
                    + ("is a directory" if path.is_dir() else "does not exist"),
                    file=str(path),
                    expected="a YAML file with a `clusters:` mapping",
                    fix=f"create it, or point {origin} at the right file",
                )
            return path
    default = Path(CLUSTER_FILE)
    return default if default.is_file() else None


def sandbox_name_problem(name: str) -> str | None:
    """Why ``sandbox:NAME`` is not a valid named sandbox, or None."""
    rest = name.removeprefix(SANDBOX_PREFIX)
    if _DNS_LABEL.fullmatch(rest) is None:
        return f"{rest!r} after `sandbox:` is not a DNS-1123 label (a-z, 0-9, '-', at most 63)"
    return None


def label_problem(key: str, value: str) -> str | None:
    """Why ``key: value`` is not a Kubernetes label, or None."""
    prefix, _, name = key.rpartition("/")
    if _LABEL_NAME.fullmatch(name) is None or (prefix and _LABEL_PREFIX.fullmatch(prefix) is None):
        return f"label key {key!r} is not a Kubernetes label key ([prefix/]name, name at most 63)"
    if value and _LABEL_NAME.fullmatch(value) is None:
        return f"label value {value!r} of {key!r} is not a Kubernetes label value (at most 63)"
    return None


def read_cluster_file(path: Path) -> tuple[Declared, ...]:
    """The file's entries, in file order; ClusterError at the file:line of the first problem."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ClusterError(f"cannot read the cluster file {path}: {exc}", file=str(path)) from None
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ClusterError(
            f"the cluster file is not valid YAML: {getattr(exc, 'problem', None) or 'invalid YAML'}",
            where=Location(str(path), mark.line + 1 if mark is not None else 1),
            fix="correct the YAML (see docs/multi-cluster.md for the format)",
        ) from None
    if root is None:
        return ()
    top = _mapping(root, path, "the cluster file")
    entries: list[Declared] = []
    for key, value in top:
        if key.value != "clusters":
            raise _at(path, key, f"unknown key {key.value!r} in the cluster file", expected="clusters")
        if isinstance(value, yaml.ScalarNode) and value.tag.endswith(":null"):
            continue
        seen: dict[str, Any] = {}
        for name_node, entry in _mapping(value, path, "`clusters`"):
            name = _string(name_node, path, "a cluster name")
            if name in seen:
                raise _at(path, name_node, f"cluster {name!r} is declared twice (first at line {seen[name]})")
            seen[name] = name_node.start_mark.line + 1
            entries.append(_entry(name, name_node, entry, path))
    return tuple(entries)


def _entry(name: str, name_node: Any, node: Any, path: Path) -> Declared:
    import yaml

    where = Location(str(path), name_node.start_mark.line + 1)
    if name.startswith(SANDBOX_PREFIX):
        problem = sandbox_name_problem(name)
    elif _CLUSTER_NAME.fullmatch(name) is None:
        problem = f"cluster name {name!r} has characters a name may not hold (spaces, quotes...)"
    else:
        problem = None
    if problem:
        raise _at(
            path, name_node, problem, expected="`sandbox:NAME`, `local`, or a kubeconfig context's name"
        )
    fields: dict[str, Any] = {}
    if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null")):
        for key, value in _mapping(node, path, f"cluster {name!r}"):
            if key.value not in _ENTRY_KEYS:
                raise _at(
                    path,
                    key,
                    f"unknown key {key.value!r} for cluster {name!r}",
                    expected=", ".join(_ENTRY_KEYS),
                )
            fields[key.value] = value
    labels: dict[str, str] = {}
    if "labels" in fields and not fields["labels"].tag.endswith(":null"):
        for key, value in _mapping(fields["labels"], path, f"the labels of {name!r}"):
            k, v = _string(key, path, "a label key"), _string(value, path, "a label value", scalar=True)
            if (bad := label_problem(k, v)) is not None:
                raise _at(path, key, bad, fix="label keys and values as on Kubernetes objects")
            labels[k] = v
    refs = {f: _string(fields[f], path, f"`{f}`") for f in ("context", "kubeconfig") if f in fields}
    if refs and (name == LOCAL or name.startswith(SANDBOX_PREFIX)):
        first = next(iter(refs))
        raise _at(
            path,
            fields[first],
            f"cluster {name!r} cannot take `{first}`: "
            + (
                "it is the control target, chosen by --context/--kubeconfig"
                if name == LOCAL
                else "it is a sandbox"
            ),
            fix="give it labels only",
        )
    return Declared(
        name=name, labels=labels, context=refs.get("context"), kubeconfig=refs.get("kubeconfig"), where=where
    )


def _mapping(node: Any, path: Path, what: str) -> list[tuple[Any, Any]]:
    import yaml

    if not isinstance(node, yaml.MappingNode):
        raise _at(path, node, f"{what} must be a mapping", got=node.tag.rpartition(":")[2] or "a value")
    return list(node.value)


def _string(node: Any, path: Path, what: str, *, scalar: bool = False) -> str:
    import yaml

    if not isinstance(node, yaml.ScalarNode) or (not scalar and not node.tag.endswith(":str")):
        raise _at(path, node, f"{what} must be a string", got=node.tag.rpartition(":")[2] or "a mapping")
    value = str(node.value)
    if not scalar and not value:
        raise _at(path, node, f"{what} must not be empty")
    return value


def _at(path: Path, node: Any, message: str, **fields: Any) -> ClusterError:
    fields.setdefault("fix", "see docs/multi-cluster.md for the cluster file's format")
    return ClusterError(
        message, where=Location(str(path), node.start_mark.line + 1), file=str(path), **fields
    )


# ---------------------------------------------------------------------------- kubeconfig


def kubeconfig_files(kubeconfig: str | None, environ: Mapping[str, str] | None = None) -> list[Path]:
    """The files the Kubernetes client reads: ``kubeconfig``, else $KUBECONFIG, else ~/.kube/config."""
    if kubeconfig:
        return [Path(kubeconfig).expanduser()]
    env = os.environ if environ is None else environ
    paths = [Path(p) for p in env.get("KUBECONFIG", "").split(os.pathsep) if p]
    return paths or [Path.home() / ".kube" / "config"]


def kubeconfig_contexts(kubeconfig: str | None) -> tuple[list[str], str | None]:
    """The context names of the kubeconfig (merged as kubectl merges $KUBECONFIG) and its
    current context; ([], None) when no file exists. Only names are read and reported."""
    import yaml

    names: list[str] = []
    current: str | None = None
    for path in kubeconfig_files(kubeconfig):
        if not path.is_file():
            continue
        try:
            data = yaml.load(
                path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
            )
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            # Said (without the file's text) when the context is opened; listing goes on.
            continue
        if not isinstance(data, dict):
            continue
        for entry in data.get("contexts") or []:
            if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"] not in names:
                names.append(entry["name"])
        if current is None and isinstance(data.get("current-context"), str) and data["current-context"]:
            current = data["current-context"]
    return names, current
