"""Actions a workflow step awaits, and the context that makes them.

A step never performs I/O: it awaits an :class:`Action`, whose ``__await__`` yields the
action to whoever drives the coroutine (the runner, or a test) and returns what is sent
back. The runner performs it, journals the result where the action is not idempotent,
and sends the result in.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from typing import Any, Generic, TypeVar, cast

import attrs

from pyvela._core.objects import Obj, ObjectRef
from pyvela._core.secret import Secret

T = TypeVar("T")


class Action(Generic[T]):
    """Base of every action. Subclasses are frozen attrs classes."""

    #: Results of journaled actions are stored in the workflow state and reused when a
    #: killed run resumes, so the side effect is not repeated.
    journaled: bool = False

    def __await__(self) -> Generator[Action[Any], Any, T]:
        result = yield self
        return cast(T, result)

    def describe(self) -> str:
        """One line for progress output and the journal."""
        return type(self).__name__


@attrs.frozen(kw_only=True)
class AppliedComponent:
    """The live objects of an applied component.

    Attributes:
        component: The component's name.
        workload: The live workload (with server-set fields).
        outputs: Live auxiliary objects by output name (``"service"``, ``"ingress"``).
    """

    component: str
    workload: Obj
    outputs: Mapping[str, Obj]

    def output(self, name: str) -> Obj:
        """The live auxiliary object ``name``; KeyError lists the known names."""
        try:
            return self.outputs[name]
        except KeyError:
            known = ", ".join(self.outputs) or "none"
            raise KeyError(
                f"component {self.component!r} has no output {name!r} (outputs: {known})"
            ) from None

    def to_data(self) -> dict[str, Any]:
        return {"component": self.component, "workload": self.workload, "outputs": dict(self.outputs)}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> AppliedComponent:
        return cls(component=data["component"], workload=data["workload"], outputs=data["outputs"])


@attrs.frozen(kw_only=True)
class HttpResponse:
    """An HTTP response as a step sees it (and as the journal stores it)."""

    status: int
    headers: Mapping[str, str]
    text: str

    def json(self) -> Any:
        import json

        return json.loads(self.text)


@attrs.frozen(kw_only=True)
class ApplyComponent(Action[AppliedComponent]):
    """Render and apply a component (workload and traits); result: the live objects."""

    component: str
    workload_patch: Mapping[str, Any] | None = None
    params: Any = None  #: the component's parameters for this apply (KubeVela's inputs set properties)

    def describe(self) -> str:
        return f"apply component {self.component}"


@attrs.frozen(kw_only=True)
class ApplyObject(Action[Obj]):
    """Apply one object (labelled as the step's); result: the live object."""

    object: Mapping[str, Any]

    def describe(self) -> str:
        return f"apply {ObjectRef.of(self.object)}"


@attrs.frozen(kw_only=True)
class ReadObject(Action[Obj | None]):
    """Read one object; result: the live object or None."""

    ref: ObjectRef

    def describe(self) -> str:
        return f"read {self.ref}"


@attrs.frozen(kw_only=True)
class ListObjects(Action[list[Obj]]):
    """List objects of a kind; result: the live objects."""

    api_version: str
    kind: str
    namespace: str | None = None
    labels: Mapping[str, str] | None = None

    def describe(self) -> str:
        return f"list {self.kind}"


@attrs.frozen(kw_only=True)
class DeleteObject(Action[bool]):
    """Delete one object and wait until it is gone; result: whether it existed."""

    ref: ObjectRef

    def describe(self) -> str:
        return f"delete {self.ref}"


@attrs.frozen(kw_only=True)
class WaitReady(Action[Obj]):
    """Wait until an object is ready by its kind's rule (or a given one); result: the live object.

    ``rule`` is a callable ``Obj | None -> Readiness`` (see ``pyvela.Readiness``).
    """

    ref: ObjectRef
    rule: Any = None
    timeout: float | None = None
    #: Seconds a workload's Pods may be stuck (bad image, crash loop, unschedulable) before
    #: the wait fails with their reason; None: the object's annotation, else 60.
    failure_grace: float | None = None

    def describe(self) -> str:
        return f"wait for {self.ref}"


@attrs.frozen(kw_only=True)
class HttpRequest(Action[HttpResponse]):
    """An HTTP request (``url`` may be a Secret). Journaled unless idempotent (GET/HEAD/PUT/DELETE)."""

    method: str
    url: str | Secret
    json: Any = None
    headers: Mapping[str, str] = attrs.field(factory=dict)
    idempotent: bool | None = None

    @property
    def journaled(self) -> bool:  # type: ignore[override]
        if self.idempotent is not None:
            return not self.idempotent
        return self.method.upper() not in {"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}

    def describe(self) -> str:
        return f"{self.method.upper()} {self.url}"


@attrs.frozen(kw_only=True)
class SendMail(Action[dict[str, Any]]):
    """One HTML e-mail over SMTP (TLS on port 465, else STARTTLS when offered); journaled.
    ``sender`` may have a display name (``Ops <ops@x.org>``). Result: ``{"recipients", "message_id"}``.
    """

    journaled = True
    host: str
    port: int = 587
    sender: str
    password: Secret | None = None
    to: tuple[str, ...]
    subject: str
    body: str

    def describe(self) -> str:
        return f"mail {self.subject!r} to {', '.join(self.to)} via {self.host}:{self.port}"


@attrs.frozen(kw_only=True)
class RegisterConfig(Action[dict[str, Any]]):
    """Write items into the configuration centre and publish them (idempotent).

    Result: ``{"release_key": ..., "changed": bool, "items": {...}}``.
    """

    journaled = True
    items: Mapping[str, str]
    cluster: str | None = None
    namespace: str | None = None
    release_title: str | None = None

    def describe(self) -> str:
        return f"register {len(self.items)} item(s) in the config centre"


@attrs.frozen(kw_only=True)
class ReadConfig(Action[dict[str, str]]):
    """Read released configuration; result: ``{key: value}``."""

    cluster: str | None = None
    namespace: str | None = None

    def describe(self) -> str:
        return "read the config centre"


@attrs.frozen(kw_only=True)
class Suspend(Action[None]):
    """Suspend the workflow until resumed (``workflow resume``) or ``duration`` passes."""

    duration: float | None = None

    def describe(self) -> str:
        return "suspend" + (f" for {self.duration:g}s" if self.duration else "")


@attrs.frozen(kw_only=True)
class WaitApp(Action[dict[str, Any]]):
    """Wait until another pyvela app's latest revision has succeeded (read from its state record).

    Result: ``{"name", "namespace", "revision", "phase"}``. Fails at once when the app was never
    deployed there, or when its latest revision failed or was terminated.
    """

    app: str
    namespace: str

    def describe(self) -> str:
        return f"wait for app {self.namespace}/{self.app}"


@attrs.frozen(kw_only=True)
class Fail(Action[None]):
    """Fail the step with ``message`` (never retried)."""

    message: str

    def describe(self) -> str:
        return f"fail: {self.message}"


@attrs.frozen(kw_only=True)
class Log(Action[None]):
    """Show ``message`` in the progress output and keep it in the step's status."""

    message: str

    def describe(self) -> str:
        return self.message


@attrs.frozen(kw_only=True)
class StepContext:
    """What a step sees: where it runs, and the actions it may await.

    Attributes:
        step_name: This step's name.
        app_name: The application's name.
        namespace: The namespace the app deploys to.
        app_revision: The app revision being deployed.
        components: Each component's parameters by component name (read-only).
    """

    step_name: str
    app_name: str
    namespace: str
    app_revision: str
    components: Mapping[str, Any] = attrs.field(factory=dict)

    def apply_component(
        self, component: str, *, workload_patch: Mapping[str, Any] | None = None, params: Any = None
    ) -> ApplyComponent:
        """Render and apply ``component`` (optionally patching its workload, lists merged by key)."""
        return ApplyComponent(component=component, workload_patch=workload_patch, params=params)

    def apply(self, obj: Mapping[str, Any]) -> ApplyObject:
        """Apply any object."""
        return ApplyObject(object=obj)

    def read(self, ref: ObjectRef) -> ReadObject:
        """Read an object (None when absent)."""
        return ReadObject(ref=ref)

    def list(
        self,
        api_version: str,
        kind: str,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
    ) -> ListObjects:
        """List objects of a kind."""
        return ListObjects(api_version=api_version, kind=kind, namespace=namespace, labels=labels)

    def delete(self, ref: ObjectRef) -> DeleteObject:
        """Delete an object and wait until it is gone."""
        return DeleteObject(ref=ref)

    def wait_ready(
        self,
        target: Mapping[str, Any] | ObjectRef | AppliedComponent,
        *,
        rule: Any = None,
        timeout: float | None = None,
        failure_grace: float | None = None,
    ) -> WaitReady:
        """Wait until ``target`` (an object, a ref, or an applied component's workload) is ready.

        A workload whose Pods stay stuck (ImagePullBackOff, CrashLoopBackOff, Unschedulable...)
        for ``failure_grace`` seconds fails the wait with the Pods' reason (default: the
        object's ``pyvela.dev/failure-grace`` annotation, else 60).
        """
        if isinstance(target, AppliedComponent):
            ref = ObjectRef.of(target.workload)
        elif isinstance(target, ObjectRef):
            ref = target
        else:
            ref = ObjectRef.of(target)
        return WaitReady(ref=ref, rule=rule, timeout=timeout, failure_grace=failure_grace)

    def http(
        self,
        method: str,
        url: str | Secret,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> HttpRequest:
        """An HTTP request; non-idempotent ones are journaled and not repeated on resume."""
        return HttpRequest(
            method=method, url=url, json=json, headers=dict(headers or {}), idempotent=idempotent
        )

    def send_mail(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        to: tuple[str, ...],
        subject: str,
        body: str,
        password: Secret | None = None,
    ) -> SendMail:
        """Send an e-mail over SMTP (journaled: not sent again on resume)."""
        return SendMail(
            host=host, port=port, sender=sender, password=password, to=to, subject=subject, body=body
        )

    def register_config(
        self,
        items: Mapping[str, str],
        *,
        cluster: str | None = None,
        namespace: str | None = None,
        release_title: str | None = None,
    ) -> RegisterConfig:
        """Write ``items`` into the config centre and publish them."""
        return RegisterConfig(
            items=dict(items), cluster=cluster, namespace=namespace, release_title=release_title
        )

    def read_config(self, *, cluster: str | None = None, namespace: str | None = None) -> ReadConfig:
        """Read the released configuration."""
        return ReadConfig(cluster=cluster, namespace=namespace)

    def suspend(self, duration: float | None = None) -> Suspend:
        """Suspend until resumed, or for ``duration`` seconds."""
        return Suspend(duration=duration)

    def wait_app(self, app: str, *, namespace: str | None = None) -> WaitApp:
        """Wait until pyvela app ``app`` (in ``namespace``, default this app's) has succeeded."""
        return WaitApp(app=app, namespace=namespace or self.namespace)

    def fail(self, message: str) -> Fail:
        """Fail this step."""
        return Fail(message=message)

    def log(self, message: str) -> Log:
        """Report a message."""
        return Log(message=message)
