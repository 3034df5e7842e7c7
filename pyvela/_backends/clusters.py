"""The clusters a run may target: the control target and the named clusters around it.

A cluster is a kubeconfig context or a named sandbox (``sandbox:NAME``, its own embedded
cluster in ``<sandbox root>/clusters/NAME/``, with the default sandbox's rules: its own
database, reset refused while a run holds a Lease in it or in its control sandbox).
``local`` is always the control
target, where the app's state record lives, like KubeVela's hub: the ``--context`` (or the
kubeconfig's current context with ``--kubeconfig``, or the pod's service account with
``--in-cluster``), else the default sandbox. Which clusters exist (``discover``):

- ``local``;
- with a kube control target, every other context of its kubeconfig, by its context name
  (the control's own context name is an alias of ``local``); without one, no context is a
  cluster unless the cluster file names it (never a real cluster by accident);
- every entry of the cluster file (``clusterfile``): labels for any cluster, a context under
  a name of its own, named sandboxes;
- every named sandbox already on disk (a cluster dropped from the file can still be pruned).

Two names for one context are one cluster: the kubeconfig's own name becomes an alias of the
cluster file's (or of ``local``); two file entries for one context are refused.

Public API::

    ClusterInfo(name, labels, kind: "kube" | "sandbox", context, kubeconfig, in_cluster,
                sandbox, declared)   .location -> "context X (kubeconfig F)" | "sandbox DIR"
    ClusterSet.discover(*, context=None, kubeconfig=None, in_cluster=False, sandbox=None,
                        cluster_file=None, read_only=False) -> ClusterSet
    ClusterSet.of({name: Backend}, labels={name: {...}}, control="local") -> ClusterSet
    ClusterSet(clusters: Iterable[ClusterInfo], *, control="local", aliases={}, read_only=False)
        .control -> "local"          .names() -> ("local", ...sorted)
        .info(name) -> ClusterInfo   .resolve(name) -> canonical name (aliases, unknown: error)
        .select(*, names=None, labels=None, allow_empty=False) -> tuple[str, ...]
        .backend(name) -> Backend    (lazy, cached, thread-safe; errors name the cluster)
        .opened() -> tuple[str, ...] .probe(name, timeout) / .probe_all(names, timeout) -> Reach
        .close()                     (closes what it opened, never the backends it was given)
    ClusterSet.discover(..., opened={"local": backend}) uses an open control backend as it is.
    describe(info) -> dict           (what ``pyvela clusters -o json`` prints of a cluster)
    Reach(name, ok, message, seconds)

``select`` follows KubeVela's topology: ``names`` (when given, even empty) win over ``labels``;
each name must be a known cluster (the error names it and lists the known ones); a label
selector matches clusters holding every given label (``{}``: all of them); neither: the
control target. An empty result is an error unless ``allow_empty`` (KubeVela's ``allowEmpty``;
KubeVela lets an explicit empty ``clusters: []`` through silently, pyvela asks for it).

Every error raised by a cluster's backend carries ``cluster=NAME`` (printed first); no
message holds a credential: kube errors are redacted by the kube backend, and a cluster is
described by its context and kubeconfig path only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from pyvela._backends.clusterfile import (
    LOCAL,
    SANDBOX_PREFIX,
    kubeconfig_contexts,
    kubeconfig_files,
    read_cluster_file,
    sandbox_name_problem,
)
from pyvela._backends.named import (
    ClusterBackend,
    ClusterInfo,
    Reach,
    describe,
    open_cluster,
    probe_cluster,
    probe_many,
)
from pyvela._backends.protocol import Backend
from pyvela.errors import ClusterError, PyvelaError

__all__ = ["LOCAL", "SANDBOXES_DIR", "ClusterInfo", "ClusterSet", "Reach", "describe"]

#: Where named sandboxes live, under the default sandbox's root.
SANDBOXES_DIR = "clusters"


def _one_name_per_context(infos: dict[str, ClusterInfo], aliases: dict[str, str]) -> None:
    """Two names for one context would deploy to one cluster twice: a second name becomes an
    alias of the first (the control target's, or the cluster file's rather than the
    kubeconfig's own), labels merged; two cluster-file entries for one context are refused."""
    seen: dict[tuple[str, tuple[Path, ...]], str] = {}
    for name in list(infos):
        info = infos[name]
        if info.kind != "kube" or info.context is None:
            continue
        files = tuple(p.expanduser().absolute() for p in kubeconfig_files(info.kubeconfig))
        first = seen.setdefault((info.context, files), name)
        if first == name:
            continue
        kept, dropped = (name, first) if infos[first].declared == "kubeconfig" else (first, name)
        if kept != LOCAL and infos[kept].declared != "kubeconfig" and infos[dropped].declared != "kubeconfig":
            raise ClusterError(
                f"clusters {first!r} and {name!r} are the same context {info.context!r}",
                got=f"{infos[first].declared} and {info.declared}",
                fix="keep one entry: a context deployed to under two names would get every object twice",
                cluster=name,
            )
        infos[kept] = attrs.evolve(infos[kept], labels={**infos[dropped].labels, **infos[kept].labels})
        del infos[dropped]
        aliases[dropped] = kept
        seen[(info.context, files)] = kept
        for alias, target in aliases.items():
            if target == dropped:
                aliases[alias] = kept


class ClusterSet:
    """The named clusters of a run, each opened on first use. See the module docstring."""

    def __init__(
        self,
        clusters: Iterable[ClusterInfo],
        *,
        control: str = LOCAL,
        aliases: Mapping[str, str] | None = None,
        read_only: bool = False,
        opened: Mapping[str, Backend] | None = None,
    ) -> None:
        self._info: dict[str, ClusterInfo] = {}
        for info in clusters:
            if info.name in self._info:
                raise ClusterError(f"cluster {info.name!r} is defined twice", cluster=info.name)
            self._info[info.name] = info
        if control not in self._info:
            raise ClusterError(f"the control cluster {control!r} is not among the clusters", cluster=control)
        self.control = control
        self._aliases = {a: n for a, n in (aliases or {}).items() if a not in self._info}
        self.read_only = read_only
        self._lock = threading.Lock()
        self._opening: dict[str, threading.Lock] = {}
        self._backends: dict[str, ClusterBackend] = {}
        self._borrowed: set[str] = set()
        self._closed = False
        for name, backend in (opened or {}).items():
            canonical = self.resolve(name)
            self._backends[canonical] = ClusterBackend(canonical, backend)
            self._borrowed.add(canonical)

    # ------------------------------------------------------------------ building
    @classmethod
    def discover(
        cls,
        *,
        context: str | None = None,
        kubeconfig: str | None = None,
        in_cluster: bool = False,
        sandbox: Path | None = None,
        cluster_file: Path | None = None,
        read_only: bool = False,
        opened: Mapping[str, Backend] | None = None,
    ) -> ClusterSet:
        """The clusters of the CLI's target arguments and cluster file (see the module docstring)."""
        from pyvela._backends.sandbox.backend import default_root

        root = (sandbox if sandbox is not None else default_root()).absolute()
        declared = read_cluster_file(cluster_file) if cluster_file is not None else ()
        kube_control = bool(context or kubeconfig or in_cluster)
        infos: dict[str, ClusterInfo] = {}
        aliases: dict[str, str] = {}
        contexts: list[str] = []
        if kube_control:
            control_context = None
            if not in_cluster:
                contexts, current = kubeconfig_contexts(kubeconfig)
                control_context = context or current
            infos[LOCAL] = ClusterInfo(
                name=LOCAL,
                kind="kube",
                context=control_context,
                kubeconfig=kubeconfig,
                in_cluster=in_cluster,
                declared="--in-cluster" if in_cluster else ("--context" if context else "--kubeconfig"),
            )
            if control_context is not None:
                aliases[control_context] = LOCAL
            for name in contexts:
                if name != control_context and name != LOCAL and not name.startswith(SANDBOX_PREFIX):
                    infos[name] = ClusterInfo(
                        name=name, kind="kube", context=name, kubeconfig=kubeconfig, declared="kubeconfig"
                    )
        else:
            infos[LOCAL] = ClusterInfo(
                name=LOCAL, kind="sandbox", sandbox=str(root), declared="default sandbox"
            )
        for entry in declared:
            where = str(entry.where)
            if entry.name == LOCAL:
                infos[LOCAL] = attrs.evolve(infos[LOCAL], labels=entry.labels, declared=where)
            elif entry.name.startswith(SANDBOX_PREFIX):
                directory = root / SANDBOXES_DIR / entry.name.removeprefix(SANDBOX_PREFIX)
                infos[entry.name] = ClusterInfo(
                    name=entry.name,
                    kind="sandbox",
                    sandbox=str(directory),
                    labels=entry.labels,
                    declared=where,
                )
            else:
                infos[entry.name] = ClusterInfo(
                    name=entry.name,
                    kind="kube",
                    context=entry.context or entry.name,
                    kubeconfig=entry.kubeconfig or kubeconfig,
                    labels=entry.labels,
                    declared=where,
                )
        _one_name_per_context(infos, aliases)
        for db in sorted((root / SANDBOXES_DIR).glob("*/sandbox.db")):
            name = SANDBOX_PREFIX + db.parent.name
            if name not in infos and sandbox_name_problem(name) is None:
                infos[name] = ClusterInfo(
                    name=name, kind="sandbox", sandbox=str(db.parent), declared="on disk"
                )
        return cls(infos.values(), aliases=aliases, read_only=read_only, opened=opened)

    @classmethod
    def of(
        cls,
        backends: Mapping[str, Backend],
        *,
        labels: Mapping[str, Mapping[str, str]] | None = None,
        control: str = LOCAL,
    ) -> ClusterSet:
        """A set of backends already open (tests, library use); ``close`` leaves them open."""
        infos = []
        for name, backend in backends.items():
            root = getattr(backend, "root", None)
            infos.append(
                ClusterInfo(
                    name=name,
                    kind="sandbox" if root is not None else "kube",
                    sandbox=str(root) if root is not None else None,
                    context=getattr(backend, "context", None),
                    labels=(labels or {}).get(name, {}),
                    declared="given",
                )
            )
        return cls(infos, control=control, opened=backends)

    # ------------------------------------------------------------------ naming
    def names(self) -> tuple[str, ...]:
        """Every cluster's name: the control target first, then by name."""
        return (self.control, *sorted(n for n in self._info if n != self.control))

    def resolve(self, name: str) -> str:
        """The canonical name of ``name`` (an alias of the control target becomes it)."""
        if name in self._info:
            return name
        if name in self._aliases:
            return self._aliases[name]
        known = ", ".join(self.names())
        if name.startswith(SANDBOX_PREFIX):
            fix = f"declare it in the cluster file (clusters.yaml): `clusters: {{{name}: {{}}}}`"
        else:
            fix = "name a kubeconfig context (with --kubeconfig/--context) or declare it in clusters.yaml"
        raise ClusterError(
            f"unknown cluster {name!r}",
            expected=f"one of {known}",
            got=repr(name),
            fix=fix + "; `pyvela clusters` lists the known ones",
            cluster=name,
        )

    def info(self, name: str) -> ClusterInfo:
        return self._info[self.resolve(name)]

    def select(
        self,
        *,
        names: Sequence[str] | None = None,
        labels: Mapping[str, str] | None = None,
        allow_empty: bool = False,
    ) -> tuple[str, ...]:
        """The clusters a topology selects, in its order (names) or in ``names()`` order (labels)."""
        if isinstance(names, str):
            raise ClusterError("cluster names must be a list", got=repr(names), fix=f"[{names!r}]")
        if names is not None:
            chosen: list[str] = []
            for name in names:
                canonical = self.resolve(name)
                if canonical not in chosen:
                    chosen.append(canonical)
            what = "the cluster list is empty"
        elif labels is not None:
            wanted = dict(labels)
            chosen = [
                n for n in self.names() if all(self._info[n].labels.get(k) == v for k, v in wanted.items())
            ]
            what = "no cluster has the labels " + ", ".join(f"{k}={v}" for k, v in sorted(wanted.items()))
        else:
            return (self.control,)
        if not chosen and not allow_empty:
            have = "; ".join(
                f"{n}: "
                + (", ".join(f"{k}={v}" for k, v in sorted(self._info[n].labels.items())) or "no labels")
                for n in self.names()
            )
            raise ClusterError(
                what,
                expected="at least one cluster",
                got=have,
                fix="label clusters in the cluster file (clusters.yaml), or allow an empty selection "
                "(allowEmpty)",
            )
        return tuple(chosen)

    # ------------------------------------------------------------------ backends
    def backend(self, name: str) -> Backend:
        """The cluster's backend, opened on first use (once, however many threads ask)."""
        canonical = self.resolve(name)
        with self._lock:
            self._check_open()
            found = self._backends.get(canonical)
            if found is not None:
                return found
            opening = self._opening.setdefault(canonical, threading.Lock())
        with opening:
            with self._lock:
                found = self._backends.get(canonical)
            if found is not None:
                return found
            opened = ClusterBackend(canonical, open_cluster(self._info[canonical], read_only=self.read_only))
            with self._lock:
                if self._closed:
                    opened.close()
                    self._check_open()
                self._backends[canonical] = opened
            return opened

    def opened(self) -> tuple[str, ...]:
        """The clusters whose backend is open (in ``names()`` order)."""
        with self._lock:
            return tuple(n for n in self.names() if n in self._backends)

    def probe(self, name: str, timeout: float = 5.0) -> Reach:
        """Whether the cluster answers, with one bounded request (never retried)."""
        canonical = self.resolve(name)
        t0 = time.monotonic()
        try:
            info = self._info[canonical]
            if info.kind == "sandbox" and not (Path(str(info.sandbox)) / "sandbox.db").is_file():
                return Reach(canonical, True, "not created yet (made on first use)", 0.0)
            return probe_cluster(canonical, self.backend(canonical), timeout)
        except PyvelaError as exc:
            return Reach(canonical, False, exc.message, time.monotonic() - t0)

    def probe_all(self, names: Sequence[str] | None = None, timeout: float = 5.0) -> tuple[Reach, ...]:
        """``probe`` of each cluster at once; one that has not answered by ``timeout`` is unreachable."""
        chosen = [self.resolve(n) for n in (names if names is not None else self.names())]
        if any(self._info[n].kind == "kube" for n in chosen):
            # Once, here: every thread importing the client at once would spend their time on it.
            import pyvela._backends.kube.backend  # noqa: F401
        return probe_many(self.probe, chosen, timeout)

    def close(self) -> None:
        """Close every backend this set opened (not those it was given); idempotent."""
        with self._lock:
            self._closed = True
            backends, self._backends = self._backends, {}
        for name, backend in backends.items():
            if name not in self._borrowed:
                backend.close()

    def __enter__(self) -> ClusterSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _check_open(self) -> None:
        if self._closed:
            raise ClusterError("the cluster set is closed", fix="open the clusters again (a new ClusterSet)")

    def __repr__(self) -> str:
        return f"ClusterSet({', '.join(self.names())})"
