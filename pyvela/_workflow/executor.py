"""Performing the actions steps yield: the only place a step's intent becomes I/O."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from pyvela._app.loader import LoadedApp
from pyvela._app.render import CLUSTER_SCOPED, RenderedComponent, render_component
from pyvela._backends.protocol import Backend
from pyvela._backends.readiness import rule_for
from pyvela._configcentre.protocol import ConfigCentre, ConfigTarget
from pyvela._core import actions as a
from pyvela._core.objects import LABEL_APP, LABEL_MANAGED_BY, MANAGER, Obj, ObjectRef, deep_copy
from pyvela._core.reads import reading
from pyvela._core.secret import Secret, reveal
from pyvela._workflow.apps import wait_app
from pyvela._workflow.deploying import perform_more
from pyvela._workflow.events import Event, EventSink
from pyvela._workflow.inventory import Inventory, in_open_batch
from pyvela._workflow.parking import wait_ready
from pyvela._workflow.policies import ANNOTATION_SHARED_BY, REPLACE, ResourcePolicies, share, sharers, write
from pyvela._workflow.waits import crd_established, delete_parked
from pyvela.errors import (
    ConfigCentreError,
    ImmutableFieldError,
    NotFoundError,
    TransientError,
)


@attrs.frozen(kw_only=True)
class ConfigSettings:
    """Defaults for config-centre targets (Apollo appId/env/namespace)."""

    app_id: str
    env: str = "DEV"
    namespace: str = "application"


class Executor:
    """Performs actions for one run. Thread-safe: steps run in parallel workers."""

    def __init__(
        self,
        loaded: LoadedApp,
        backend: Backend,
        *,
        events: EventSink,
        inventory: Inventory,
        config_centre: Callable[[], ConfigCentre],
        config: ConfigSettings,
        namespace: str,
        force_conflicts: bool = False,
        policies: ResourcePolicies | None = None,
        adopted: frozenset[ObjectRef] = frozenset(),
        renders: dict[str, RenderedComponent] | None = None,
        park: bool = False,
    ) -> None:
        self.loaded = loaded
        self.backend = backend
        self.events = events
        self.inventory = inventory
        self._config_centre = config_centre
        self._centre: ConfigCentre | None = None
        self.config = config
        self.namespace = namespace
        self.force_conflicts = force_conflicts
        self.park = park  # the controller's runs: a wait for readiness parks the step (``parking``)
        # Objects adopted from KubeVela: its field manager still holds their fields, which
        # the first deploy takes over (server-side apply --force) to update them in place.
        self.adopted = adopted
        # Components rendered when the revision was planned: each applied once from there.
        self._renders = renders if renders is not None else {}
        self.policies = policies or ResourcePolicies(())
        self.me = f"{namespace}/{loaded.app.name}"
        self._http: Any = None
        self._lock = threading.Lock()
        self._namespace_ready = False

    # ------------------------------------------------------------------ dispatch

    def perform(
        self,
        action: a.Action[Any],
        *,
        step: str,
        deadline: float,
        cancel: threading.Event,
        since: float = 0.0,
    ) -> Any:
        """Perform ``action`` for ``step`` (started at ``since``); its result (JSON-friendly if journaled)."""
        remaining = max(0.0, deadline - time.monotonic())
        match action:
            case a.ApplyComponent():
                return in_open_batch(self.backend, self.apply_component, action, step, timeout=remaining)
            case a.ApplyObject():
                return self.apply_object(dict(action.object), step=step, component=None, trait=None)
            case a.ReadObject():
                return self.backend.get(action.ref)
            case a.ListObjects():
                return self.backend.list(action.api_version, action.kind, action.namespace, action.labels)
            case a.DeleteObject() if self.park:  # the controller's: parked until it is gone
                return delete_parked(self.backend, action.ref, judgeable=self.inventory.cluster is None)
            case a.DeleteObject():
                return self.backend.delete(action.ref, wait=True, timeout=remaining)
            case a.WaitReady():
                timeout = remaining if action.timeout is None else min(action.timeout, remaining)
                return self.wait_ready(action, step=step, timeout=timeout, cancel=cancel, since=since or None)
            case a.HttpRequest():
                return self.http(action, timeout=remaining)
            case a.SendMail():
                from pyvela._workflow.mail import send_mail  # smtplib, ssl, email: imported when used

                return send_mail(action, timeout=remaining)
            case a.RegisterConfig():
                return self.register(action, step)
            case a.ReadConfig():
                return dict(self.centre().read(self.target(action.cluster, action.namespace)))
            case a.WaitApp():
                how: dict[str, Any] = {"events": self.events, "cancel": cancel, "park": self.park}
                return wait_app(self.backend, action, step=step, timeout=remaining, **how)
            case a.Log():
                self.events.emit(Event(kind="log", step=step, message=action.message))
                return None
        return perform_more(self, action, step=step, deadline=deadline, cancel=cancel)  # or raises

    # ------------------------------------------------------------------ objects

    def ensure_namespace(self) -> None:
        with self._lock:
            if self._namespace_ready:
                return
            ref = ObjectRef("v1", "Namespace", "", self.namespace)
            if self.backend.get(ref) is None:
                self.backend.apply(
                    {
                        "apiVersion": "v1",
                        "kind": "Namespace",
                        "metadata": {"name": self.namespace, "labels": {LABEL_MANAGED_BY: MANAGER}},
                    }
                )
                self.events.emit(
                    Event(
                        kind="applied",
                        message=f"created Namespace {self.namespace}",
                        data={"object": ref.to_dict(), "change": "created"},
                    )
                )
            self._namespace_ready = True

    def apply_object(
        self,
        obj: Obj,
        *,
        step: str | None,
        component: str | None,
        trait: str | None,
        patch: Mapping[str, Any] | None = None,
        output: str | None = None,
        owned: bool = False,
    ) -> Obj:
        """Apply one object as the app's policies say (``output``: the name of a component's
        extra output, which selectors see as a trait's); record it in the inventory (``owned``:
        ``obj`` is handed over, the inventory keeps it without a copy)."""
        ref = ObjectRef.of(obj)
        if ref.kind not in CLUSTER_SCOPED:
            obj.setdefault("metadata", {}).setdefault("namespace", self.namespace)
            ref = ref if ref.namespace else ObjectRef.of(obj)  # the same ref when it named one
            self.ensure_namespace()
        labels = obj.setdefault("metadata", {}).setdefault("labels", {})
        labels.setdefault(LABEL_APP, self.loaded.app.name)
        labels.setdefault(LABEL_MANAGED_BY, MANAGER)
        live = self.backend.get(ref)
        facts = self.policies.facts(ref, component=component, trait=trait, output=output)
        if self.policies.read_only(facts):
            return self._read_only(live, ref, step=step, component=component)
        shared = self.policies.shared(facts)
        joined = share(obj, live, self.me, app=self.loaded.app.name) if shared else None
        if joined is None and live is not None:
            self.policies.check_owner(live, ref, facts, app=self.loaded.app.name)
            if sharers(live) and not shared:  # other apps share it: their claim must survive this apply
                obj["metadata"].setdefault("annotations", {})[ANNOTATION_SHARED_BY] = ",".join(sharers(live))
        # A later sharer only joins (the first writes it); apply-once may leave it as it is.
        desired = joined if joined is not None else self.policies.drift(obj, live, facts)
        how: str | None = "unchanged (apply-once)"
        if desired is None:
            applied = live
        else:
            strategy = REPLACE if joined is not None else self.policies.update_strategy(facts)
            force = self.force_conflicts or ref in self.adopted
            applied, how = write(self.backend, desired, live, strategy, force=force, timeout=120.0)
        assert applied is not None
        change = how or (
            "created"
            if live is None
            else (
                "unchanged"
                if applied["metadata"].get("resourceVersion") == live["metadata"].get("resourceVersion")
                else "configured"
            )
        )
        self.inventory.add(
            ref, component=component, trait=trait, manifest=obj, patch=patch, step=step, owned=owned
        )
        self.events.emit(
            Event(
                kind="applied",
                step=step,
                message=f"{ref} {change}",
                data={"object": ref.to_dict(), "change": change, "component": component},
            )
        )
        return applied

    def _read_only(self, live: Obj | None, ref: ObjectRef, *, step: str | None, component: str | None) -> Obj:
        if live is None:
            raise NotFoundError(
                f"{ref} is read-only for this app (read-only policy) but does not exist",
                object=str(ref),
                component=component,
                fix="create it first, or remove it from the read-only policy",
            )
        self.events.emit(
            Event(
                kind="applied",
                step=step,
                message=f"{ref} read (read-only policy)",
                data={"object": ref.to_dict(), "change": "read-only", "component": component},
            )
        )
        return live

    def apply_component(
        self, action: a.ApplyComponent, step: str, *, timeout: float = 60.0
    ) -> a.AppliedComponent:
        use = self.loaded.app.component(action.component).with_params(action.params)
        rendered = None if action.workload_patch or action.params else self._renders.pop(use.name, None)
        if rendered is None:
            with reading(self.backend):  # ref-objects reads the cluster it is applied to
                rendered = render_component(
                    self.loaded.app, use, revision=self.loaded.revision, workload_patch=action.workload_patch
                )
        workload: Obj | None = None
        outputs: dict[str, Obj] = {}
        # Namespaces and CRDs first: the objects that need them must not race them.
        order = sorted(
            rendered.objects,
            key=lambda o: o.object.get("kind") not in {"Namespace", "CustomResourceDefinition"},
        )
        for ro in order:
            obj = ro.object  # each render is applied once (its own, or the plan's): no copy needed
            try:
                live = self.apply_object(
                    obj,
                    step=step,
                    component=use.name,
                    trait=ro.trait,
                    patch=action.workload_patch if ro.output is None else None,
                    output=ro.output,
                    owned=True,
                )
            except ImmutableFieldError as exc:
                if ro.output is not None or use.definition.update != "recreate":
                    exc.fix = (
                        f'declare update="recreate" on the {use.definition.name!r} component definition '
                        "(its workload is then deleted and created again), or delete the object first"
                    )
                    raise
                live = self._recreate(obj, exc, step=step, component=use.name, timeout=timeout)
            if ro.object.get("kind") == "CustomResourceDefinition" and self.park:
                crd_established(self.backend, live, remaining=timeout)  # or parks until it is
            elif ro.object.get("kind") == "CustomResourceDefinition":
                self.backend.wait(
                    ObjectRef.of(live),
                    rule_for("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
                    timeout=min(60.0, timeout),  # never past the step's deadline
                )
            if ro.output is None:
                workload = live
            else:
                outputs[ro.output] = live
        assert workload is not None
        return a.AppliedComponent(component=use.name, workload=workload, outputs=outputs)

    def _recreate(
        self, obj: Obj, why: ImmutableFieldError, *, step: str, component: str, timeout: float
    ) -> Obj:
        """Replace a workload whose change the API server refuses (a Job's template): delete it,
        wait until it is gone, apply it again, as the component's definition declares."""
        ref = ObjectRef.of(obj)
        self.events.emit(
            Event(
                kind="recreating",
                step=step,
                message=f"{ref} cannot be updated in place ({why.message}): deleting it to create it again",
                data={"object": ref.to_dict(), "component": component},
            )
        )
        if self.park:  # the controller's: parked until it is gone, then applied by the next try
            delete_parked(self.backend, ref, judgeable=self.inventory.cluster is None)
        else:
            self.backend.delete(ref, wait=True, timeout=timeout)
        return self.apply_object(deep_copy(obj), step=step, component=component, trait=None)

    def wait_ready(
        self,
        action: a.WaitReady,
        *,
        step: str,
        timeout: float,
        cancel: threading.Event,
        since: float | None = None,
    ) -> Obj:
        """Block until ready, or (``park``: the controller's runs) look once (see ``parking``)."""
        return wait_ready(self, action, step=step, timeout=timeout, cancel=cancel, since=since)

    # ------------------------------------------------------------------ outside world

    def http(self, action: a.HttpRequest, *, timeout: float) -> a.HttpResponse:
        import httpx

        with self._lock:
            if self._http is None:
                self._http = httpx.Client(timeout=httpx.Timeout(30.0), follow_redirects=True)
        # A URL from a Secret: what the server sends back is scrubbed of it before anyone sees it.
        scrub = action.url.scrub if isinstance(action.url, Secret) else str
        try:
            response = self._http.request(
                action.method,
                reveal(action.url),
                json=action.json,
                headers=dict(action.headers),
                timeout=min(30.0, max(timeout, 0.1)),
            )
        except httpx.TransportError as exc:
            raise TransientError(f"{action.describe()} failed: {type(exc).__name__}") from exc
        text = scrub(response.text)
        if response.status_code == 429 or response.status_code >= 500:
            excerpt = " ".join(text.split())[:200]
            raise TransientError(f"{action.describe()} answered {response.status_code}: {excerpt}")
        headers = {k: scrub(v) for k, v in response.headers.items()}
        return a.HttpResponse(status=response.status_code, headers=headers, text=text)

    def centre(self) -> ConfigCentre:
        with self._lock:
            if self._centre is None:
                self._centre = self._config_centre()
            return self._centre

    def target(self, cluster: str | None, namespace: str | None) -> ConfigTarget:
        return ConfigTarget(
            app_id=self.config.app_id,
            env=self.config.env,
            cluster=cluster or "default",
            namespace=namespace or self.config.namespace,
        )

    def register(self, action: a.RegisterConfig, step: str) -> dict[str, Any]:
        target = self.target(action.cluster, action.namespace)
        title = action.release_title or f"{self.loaded.app.name} {step}"
        try:
            release = self.centre().register(
                target,
                action.items,
                release_title=title,
                comment=f"pyvela {self.loaded.app.name} step {step}",
            )
        except ConfigCentreError as exc:
            raise exc.with_context(step=step) from None
        self.events.emit(
            Event(
                kind="log",
                step=step,
                message=f"registered {len(action.items)} item(s) in {target} "
                + ("(published " + release.release_key + ")" if release.changed else "(already published)"),
            )
        )
        return {
            "release_key": release.release_key,
            "changed": release.changed,
            "items": dict(release.items),
            # What this step registered, and where: a rollback restores it (``registrations``).
            "target": attrs.asdict(target),
            "registered": dict(action.items),
        }

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        if self._centre is not None:
            self._centre.close()
