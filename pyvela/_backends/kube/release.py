"""HelmRelease objects on a real cluster: apply, read, wait for and delete Helm releases.

Used by :class:`pyvela._backends.kube.backend.KubeBackend` for ``pyvela.dev/v1alpha1 HelmRelease`` (no
``kubernetes`` import here: all cluster access goes through the backend).

- apply: ``helm upgrade --install`` (no ``--wait``) when the spec's hash, the labels or
  a non-deployed status call for it; otherwise a no-op that returns the live object.
- get: the release helm stored, synthesised as an object; phase ``deployed`` only once
  the release's own workloads (from its manifest) are ready by their readiness rules.
- wait: watches helm's release storage, then each workload, all through watches.
- delete: ``helm uninstall``, then waits for the release's objects to go.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import yaml

from pyvela._backends.helmvalues import resolve
from pyvela._backends.kube.helm import (
    HelmSpec,
    find_helm,
    run_helm,
    spec_hash,
    uninstall_command,
    upgrade_command,
)
from pyvela._backends.kube.helm_atomic import Undo, undo, undo_of
from pyvela._backends.kube.helm_store import (
    LABEL_GENERATION,
    LABEL_SPEC_HASH,
    SYSTEM_LABELS,
    Storage,
    latest_release,
    synthesise,
    workloads_in,
)
from pyvela._backends.protocol import Readiness, ReadinessRule
from pyvela._backends.readiness import rule_for
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj, ObjectRef, deep_copy
from pyvela.errors import (
    ClusterError,
    NotReadyError,
    PyvelaError,
    StepTimeout,
    TransientError,
    UnknownKindError,
)

if TYPE_CHECKING:
    from pyvela._backends.kube.reads import KubeReads

__all__ = ["HelmReleases"]

Found = tuple[dict[str, Any], Obj]


class HelmReleases:
    """The HelmRelease kind of one cluster (its :class:`~pyvela._backends.kube.reads.KubeReads`)."""

    def __init__(self, kube: KubeReads) -> None:
        self.kube = kube
        self.storage = Storage.from_env()
        self._binary: str | None = None
        self._undo: dict[tuple[str, str], Undo] = {}  # atomic releases applied, until ready
        self._major: str | None = None
        self._lock = threading.Lock()

    @property
    def binary(self) -> str:
        if self._binary is None:
            self._binary = find_helm()
        return self._binary

    def _current(self, namespace: str, name: str) -> Found | None:
        items, _ = self.kube.list_versioned(
            self.storage.api_version, self.storage.kind, namespace, Storage.selector(name)
        )
        return latest_release(items)

    def _judge(self, release: Mapping[str, Any], namespace: str) -> list[tuple[ObjectRef, Readiness]] | None:
        if (release.get("info") or {}).get("status") != "deployed":
            return None
        return [
            (w, rule_for(w.api_version, w.kind)(self.kube.get(w)))
            for w in workloads_in(str(release.get("manifest") or ""), namespace)
        ]

    # ------------------------------------------------------------------ reads
    def get(self, ref: ObjectRef) -> Obj | None:
        namespace = ref.namespace or "default"
        found = self._current(namespace, ref.name)
        if found is None:
            return None
        release, storage = found
        return synthesise(ref.name, namespace, release, storage, self._judge(release, namespace))

    def list(self, namespace: str | None, labels: Mapping[str, str] | None) -> list[Obj]:
        items, _ = self.kube.list_versioned(
            self.storage.api_version, self.storage.kind, namespace, Storage.selector()
        )
        groups: dict[tuple[str, str], list[Obj]] = {}
        for item in items:
            meta = item.get("metadata") or {}
            groups.setdefault(
                (meta.get("namespace") or "", (meta.get("labels") or {}).get("name", "")), []
            ).append(item)
        out = []
        for (ns, name), stored in sorted(groups.items()):
            found = latest_release(stored)
            if found is not None:
                obj = synthesise(name, ns, found[0], found[1])
                have = obj["metadata"].get("labels") or {}
                if all(have.get(k) == v for k, v in (labels or {}).items()):
                    out.append(obj)
        return out

    # ------------------------------------------------------------------ writes
    def apply(self, obj: Mapping[str, Any], *, force: bool = False, dry_run: bool = False) -> Obj:
        meta = obj.get("metadata") or {}
        spec = HelmSpec.of(obj)
        name, namespace = str(meta.get("name") or ""), str(meta.get("namespace") or "default")
        what = f"{HELM_KIND} {namespace}/{name}"
        if spec.release != name:
            raise ClusterError(
                f"{what}: spec.releaseName {spec.release!r} must equal metadata.name", object=what
            )
        values: Mapping[str, Any] = spec.values
        wanted_hash = spec_hash(obj.get("spec"))
        if (obj.get("spec") or {}).get("valuesFrom"):
            # What the ConfigMaps and Secrets hold now is part of what is installed: a change
            # there is an upgrade, as FluxCD's helm-controller makes it.
            values = resolve(obj.get("spec") or {}, namespace, self.kube.get, what)
            wanted_hash = spec_hash([obj.get("spec"), spec_hash(values)])
        labels_in = (meta.get("labels") or {}).items()  # helm's own label keys are not ours to set
        wanted_labels = {str(k): str(v) for k, v in labels_in if k not in SYSTEM_LABELS}
        found = self._current(namespace, name)
        plan = undo_of(found[0] if found is not None else None, namespace, name)
        generation = 1
        if found is not None:
            release, storage = found
            live = synthesise(name, namespace, release, storage)
            stored = (storage.get("metadata") or {}).get("labels") or {}
            same = stored.get(LABEL_SPEC_HASH) == wanted_hash
            helm_status = str((release.get("info") or {}).get("status") or "")
            labelled = all(stored.get(k) == v for k, v in wanted_labels.items())
            if same and labelled and helm_status == "deployed":
                return live
            if helm_status.startswith("pending"):
                raise TransientError(
                    f"{what}: another helm operation is in progress on release {name} ({helm_status})",
                    object=what,
                    fix=f"wait for it to end; if no helm runs any more: helm rollback {name} -n "
                    f"{namespace} (or helm uninstall when it never installed)",
                )
            generation = int(live["metadata"]["generation"]) + (0 if same else 1)
        if dry_run:
            preview = {
                "apiVersion": HELM_API_VERSION,
                "kind": HELM_KIND,
                "spec": deep_copy(obj.get("spec")),
                "metadata": {
                    "name": name,
                    "namespace": namespace,
                    "generation": generation,
                    **({"labels": wanted_labels} if wanted_labels else {}),
                },
            }
            return preview
        labels = {**wanted_labels, LABEL_GENERATION: str(generation), LABEL_SPEC_HASH: wanted_hash}
        with self._repository(spec, what) as (env, chart_args):
            cmd = upgrade_command(
                self.binary,
                spec,
                namespace,
                values_file="{values}",
                labels=labels,
                description=f"pyvela generation {generation}: {spec.describe()}",
                target=self.kube.target,
                chart_args=chart_args,
            )
            if force and self._helm4():  # helm 4 applies server-side, with its own field conflicts
                cmd.append("--force-conflicts")
            try:
                run_helm(cmd, what=what, redact=self.kube.redact, values=values, env=env)
            except PyvelaError as exc:
                if not spec.atomic:
                    raise
                raise undo(self.binary, plan, exc, target=self.kube.target, redact=self.kube.redact) from None
        if spec.atomic:
            self._undo[(namespace, name)] = plan  # for a wait that fails
        found = self._current(namespace, name)
        if found is None:
            raise ClusterError(f"{what}: helm reported success but no release is stored", object=what)
        return synthesise(name, namespace, *found)

    @contextlib.contextmanager
    def _repository(self, spec: HelmSpec, what: str) -> Iterator[tuple[dict[str, str], Any]]:
        """helm's environment and chart arguments: a repository with credentials is added privately."""
        if spec.secret_ref is None:
            yield {}, None
            return
        from pyvela._backends.kube.helm_auth import authenticated_repo, repo_credentials

        credentials = repo_credentials(self.kube.get, spec, what)
        with authenticated_repo(self.binary, spec, credentials, what=what, redact=self.kube.redact) as found:
            yield found[0], found[1]

    def _helm4(self) -> bool:
        if self._major is None:
            out = run_helm([self.binary, "version", "--short"], what="helm version", redact=self.kube.redact)
            self._major = out.strip().lstrip("v").split(".")[0]
        return self._major == "4"

    def delete(self, ref: ObjectRef, *, wait: bool, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        namespace = ref.namespace or "default"
        found = self._current(namespace, ref.name)
        if found is None:
            return False
        what = f"{HELM_KIND} {namespace}/{ref.name}"
        run_helm(
            uninstall_command(self.binary, ref.name, namespace, self.kube.target),
            what=what,
            redact=self.kube.redact,
        )
        if wait:
            for obj_ref in _objects_in(str(found[0].get("manifest") or ""), namespace):
                try:
                    self.kube.wait_gone(obj_ref, uid=None, deadline=deadline)
                except UnknownKindError:
                    continue
        return True

    # ------------------------------------------------------------------ wait
    def wait(
        self,
        ref: ObjectRef,
        rule: ReadinessRule,
        *,
        deadline: float,
        on_progress: Callable[[Readiness], None] | None,
        cancel: threading.Event | None,
    ) -> Obj:
        key = (ref.namespace or "default", ref.name)
        try:
            live = self._wait(ref, rule, deadline=deadline, on_progress=on_progress, cancel=cancel)
        except (NotReadyError, StepTimeout) as exc:
            plan = self._undo.pop(key, None)
            if plan is None:
                raise
            raise undo(self.binary, plan, exc, target=self.kube.target, redact=self.kube.redact) from None
        self._undo.pop(key, None)
        return live

    def _wait(
        self,
        ref: ObjectRef,
        rule: ReadinessRule,
        *,
        deadline: float,
        on_progress: Callable[[Readiness], None] | None,
        cancel: threading.Event | None,
    ) -> Obj:
        namespace = ref.namespace or "default"
        total = round(max(0.0, deadline - time.monotonic()), 2)
        last: list[str | None] = [None]

        def report(verdict: Readiness) -> None:
            if verdict.message != last[0]:
                last[0] = verdict.message
                if on_progress is not None:
                    on_progress(verdict)

        def release_done(objects: Mapping[str, Obj]) -> Found | None:
            found = latest_release(objects.values())
            verdict = rule(synthesise(ref.name, namespace, *found) if found else None)
            report(verdict)
            if verdict.failed:
                raise NotReadyError(
                    f"{ref} will not become ready: {verdict.message}", object=str(ref), got=verdict.message
                )
            return found if verdict.ready else None

        storage_kind = self.kube.discovery.kind(self.storage.api_version, self.storage.kind)
        while True:
            try:
                release, _ = self.kube.follow(
                    storage_kind,
                    namespace,
                    release_done,
                    deadline=deadline,
                    cancel=cancel,
                    what=ref,
                    labels=Storage.selector(ref.name),
                    last=last,
                )
                for work in workloads_in(str(release.get("manifest") or ""), namespace):

                    def progress(verdict: Readiness, work: ObjectRef = work) -> None:
                        report(Readiness(False, f"{work.kind} {work.name}: {verdict.message}"))

                    self.kube.follow_one(
                        work,
                        rule_for(work.api_version, work.kind),
                        deadline=deadline,
                        on_progress=progress,
                        cancel=cancel,
                    )
            except NotReadyError as exc:
                if exc.context.get("object") == str(ref):
                    raise
                raise NotReadyError(
                    f"{ref} will not become ready: {exc.message}", object=str(ref), got=exc.got
                ) from None
            except StepTimeout:
                raise StepTimeout(
                    f"timed out after {total:g}s waiting for {ref}: {last[0]}",
                    object=str(ref),
                    timeout=total,
                    last_message=last[0],
                ) from None
            live = self.get(ref)
            verdict = rule(live)
            report(verdict)
            if verdict.ready and live is not None:
                return live
            if verdict.failed:
                raise NotReadyError(
                    f"{ref} will not become ready: {verdict.message}", object=str(ref), got=verdict.message
                )
            if time.monotonic() >= deadline:
                raise StepTimeout(
                    f"timed out after {total:g}s waiting for {ref}: {verdict.message}",
                    object=str(ref),
                    timeout=total,
                    last_message=verdict.message,
                )
            time.sleep(0.2)  # changed while we looked: look again


def _objects_in(manifest: str, namespace: str) -> list[ObjectRef]:
    refs = []
    try:
        docs = list(yaml.safe_load_all(manifest))
    except yaml.YAMLError:
        return []
    for doc in docs:
        if isinstance(doc, dict) and isinstance(doc.get("metadata"), dict) and doc.get("kind"):
            ref = ObjectRef.of(doc)
            refs.append(attrs.evolve(ref, namespace=ref.namespace or namespace))
    return refs
