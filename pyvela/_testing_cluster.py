"""Deploying an app from a test: on a fresh sandbox, or on a named real cluster.

Public through :mod:`pyvela.testing` (``Cluster``, ``Deployed``, ``sandbox_cluster``,
``real_cluster``); the pytest plugin's ``pyvela_sandbox`` and ``deploy_app`` fixtures are
built on it. A deploy here is the CLI's ``pyvela deploy``, in-process: the same loader,
lifecycle and executor, so a test that passes here passes there.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs

from pyvela._app.application import Application
from pyvela._app.loader import LoadedApp, load_app, load_application
from pyvela._backends.protocol import Backend
from pyvela._configcentre.protocol import ConfigCentre
from pyvela._core.objects import Obj, ObjectRef
from pyvela._workflow.events import Event, Recorder
from pyvela._workflow.executor import ConfigSettings
from pyvela._workflow.lifecycle import AppOps
from pyvela._workflow.results import Options, RunResult
from pyvela.errors import ConfigCentreError

#: The API version of the kinds a test most often reads back, so ``get("Deployment", "web")``
#: needs no ``api_version``; any other kind names its own.
API_VERSIONS = {
    **dict.fromkeys(
        ("ConfigMap", "Secret", "Service", "Pod", "PersistentVolumeClaim", "ServiceAccount", "Namespace"),
        "v1",
    ),
    **dict.fromkeys(("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"), "apps/v1"),
    **dict.fromkeys(("Job", "CronJob"), "batch/v1"),
    "Ingress": "networking.k8s.io/v1",
    "HorizontalPodAutoscaler": "autoscaling/v2",
    "Rollout": "argoproj.io/v1alpha1",
}


AppLike = str | Path | LoadedApp | Application


def loaded_app(app: AppLike, defs: Sequence[str] | None = None) -> LoadedApp:
    """An app file, a loaded app, or an ``Application`` built in the test, loaded and validated.

    An ``Application`` is checked against the catalogue of ``defs`` (default ``$PYVELA_DEFS``,
    else ``platform_defs``) as its file would be; its revision hashes its spec the same way.
    """
    if isinstance(app, LoadedApp):
        return app
    if not isinstance(app, Application):
        return load_app(app, defs=defs)
    return load_application(app, defs=defs)


@attrs.frozen
class Deployed:
    """What a deploy did, and the app's status right after it.

    Attributes:
        result: The run's outcome (phase, steps with their outputs, pruned objects).
        status: ``pyvela status`` as data: steps and every owned object with its live health.
        events: The run's progress events, in order.
    """

    result: RunResult
    status: dict[str, Any]
    events: tuple[Event, ...] = ()

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def phase(self) -> str:
        return self.result.phase

    @property
    def steps(self) -> dict[str, Any]:
        """Each step's state by name (``phase``, ``message``, ``outputs``...)."""
        return dict(self.result.steps)

    def outputs(self, step: str) -> Any:
        """What ``step`` returned (KeyError naming the steps when there is no such step)."""
        if step not in self.result.steps:
            raise KeyError(f"no step {step!r}; steps: {', '.join(self.result.steps) or 'none'}")
        return self.result.steps[step].get("outputs")

    def __repr__(self) -> str:
        # What pytest prints under a failed `assert deployed.ok`: the phase and why.
        failed = [
            f"{name}: {s.get('phase')} {s.get('message') or s.get('reason') or ''}".rstrip()
            for name, s in self.result.steps.items()
            if s.get("phase") not in ("succeeded", "skipped")
        ]
        why = f", message={self.result.message!r}" if self.result.message else ""
        steps = f", steps not succeeded: {'; '.join(failed)}" if failed else ""
        return f"Deployed(app={self.result.app!r}, phase={self.phase!r}{why}{steps})"


@attrs.define
class Cluster:
    """A cluster a test deploys to and reads back from.

    Attributes:
        backend: The backend (``Sandbox`` or the real-cluster one).
        root: The sandbox's directory (None for a real cluster).
        context: The kubeconfig context of a real cluster (None for the sandbox).
        defs: The catalogue modules deploys use unless they name their own.
    """

    backend: Backend
    root: Path | None = None
    context: str | None = None
    defs: Sequence[str] | None = None
    deployed: list[AppOps] = attrs.field(factory=list, repr=False)

    @property
    def description(self) -> str:
        return self.backend.description

    @property
    def is_sandbox(self) -> bool:
        return self.root is not None

    def get(self, kind: str, name: str, namespace: str = "default", *, api_version: str | None = None) -> Obj:
        """The live object; AssertionError saying what exists when it does not."""
        version = self._version(kind, api_version)
        live = self.backend.get(ObjectRef(version, kind, namespace, name))
        if live is None:
            have = sorted(o["metadata"]["name"] for o in self.backend.list(version, kind, namespace))
            raise AssertionError(
                f"no {kind} {namespace}/{name} on {self.description} "
                f"({kind} objects in {namespace}: {', '.join(have) or 'none'})"
            )
        return live

    def list(self, kind: str, namespace: str | None = None, *, api_version: str | None = None) -> list[Obj]:
        """Live objects of ``kind`` (every namespace when ``namespace`` is None)."""
        return self.backend.list(self._version(kind, api_version), kind, namespace)

    def deploy(
        self,
        app: AppLike,
        *,
        defs: Sequence[str] | None = None,
        namespace: str | None = None,
        parallel: int = 8,
    ) -> Deployed:
        """Run the app's workflow to its end (as ``pyvela deploy``) and read its status."""
        loaded = loaded_app(app, defs or self.defs)
        recorder = Recorder()
        centre, config = self._centre(loaded)
        ops = AppOps(
            self.backend,
            loaded,
            events=recorder,
            config_centre=centre,
            config=config,
            namespace=namespace,
            options=Options(parallel=parallel),
        )
        self.deployed.append(ops)
        result = ops.deploy()
        return Deployed(result, ops.status(), tuple(recorder.events))

    def clean_up(self) -> tuple[str, ...]:
        """Delete every app this cluster deployed (a real cluster is shared); problems as text."""
        problems: builtins.list[str] = []
        seen: set[tuple[str, str]] = set()
        for ops in reversed(self.deployed):
            if (ops.app, ops.namespace) in seen:
                continue
            seen.add((ops.app, ops.namespace))
            try:
                result = ops.delete()
            except Exception as exc:  # teardown reports every app, not just the first failure
                problems.append(f"{ops.app}: {exc}")
                continue
            if result.phase != "deleted":
                problems.append(f"{ops.app}: {result.phase} {result.message}")
        self.deployed.clear()
        return tuple(problems)

    def close(self) -> None:
        self.backend.close()

    def _version(self, kind: str, api_version: str | None) -> str:
        if api_version:
            return api_version
        if kind not in API_VERSIONS:
            raise AssertionError(
                f"which API version is {kind}? pass api_version=... (known without it: "
                f"{', '.join(sorted(API_VERSIONS))})"
            )
        return API_VERSIONS[kind]

    def _centre(self, loaded: LoadedApp) -> tuple[Callable[[], ConfigCentre], ConfigSettings]:
        config = ConfigSettings(app_id=loaded.app.name)
        if self.is_sandbox:
            # The sandbox's own centre, whatever the environment says: a test stays hermetic.
            factory: Callable[[], ConfigCentre] = getattr(self.backend, "config_centre")  # noqa: B009
            return factory, config
        # A real cluster: Apollo when the app module or the environment configures it.
        from pyvela._configcentre.apollo import ApolloConfigCentre, ApolloSettings

        settings = getattr(loaded.module, "apollo", None)
        if not isinstance(settings, ApolloSettings):
            settings = ApolloSettings.from_env(os.environ)
        if settings is None:

            def missing() -> ConfigCentre:
                raise ConfigCentreError(
                    f"no configuration centre is configured for {self.description}",
                    fix="set PYVELA_APOLLO_PORTAL_URL and PYVELA_APOLLO_CONFIG_URL (and "
                    "PYVELA_APOLLO_TOKEN), or define `apollo = ApolloSettings(...)` in the app module",
                )

            return missing, config
        chosen = settings
        return (
            lambda: ApolloConfigCentre(chosen),
            ConfigSettings(
                app_id=chosen.app_id or loaded.app.name, env=chosen.env, namespace=chosen.namespace
            ),
        )


def sandbox_cluster(root: Path, *, ready_delay: float = 0.0, defs: Sequence[str] | None = None) -> Cluster:
    """A fresh sandbox in ``root`` whose workloads become ready after ``ready_delay`` seconds."""
    from pyvela._backends.sandbox import Sandbox, SandboxSettings

    return Cluster(Sandbox(root, settings=SandboxSettings(ready_delay=ready_delay)), root=root, defs=defs)


def real_cluster(
    context: str, kubeconfig: str | None = None, *, defs: Sequence[str] | None = None
) -> Cluster:
    """The cluster of a kubeconfig context (a missing file or context is a ClusterError)."""
    from pyvela._backends.kube.backend import KubeBackend

    return Cluster(KubeBackend.connect(context=context, kubeconfig=kubeconfig), context=context, defs=defs)
