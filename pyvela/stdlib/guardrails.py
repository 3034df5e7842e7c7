"""The standard guardrails: a small set of rules most platforms want every app to pass.

None is on by itself (an app that uses ``webservice`` does not get them): a platform turns
them on by putting this module in its catalogue (``--defs platform_defs --defs
pyvela.stdlib.guardrails``, or ``PYVELA_DEFS``), or only some of them by importing those
into its own definitions module (``from pyvela.stdlib.guardrails import image_pinned``).
``image_pinned.with_severity("warning")`` bound under another module-level name only warns.
See ``docs/guardrails.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pyvela import CheckedApp, CheckedObject, Finding, check

from ._types import as_list, as_map

#: Kinds whose pods run until stopped: they need probes (a Job's pods finish).
LONG_RUNNING = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout")
#: Kinds that hold a pod template (or are a Pod).
POD_KINDS = (*LONG_RUNNING, "Job", "CronJob", "Pod")
#: What ``resources-set`` requires of each container.
REQUIRED_RESOURCES = (("requests", "cpu"), ("requests", "memory"), ("limits", "memory"))


@check(name="resources-set", kinds=POD_KINDS)
def resources_set(obj: CheckedObject) -> Iterator[Finding]:
    """Every container (init containers too) requests CPU and memory and limits its memory,
    so the scheduler can place it and a leak cannot take the node's memory."""
    for path, container in obj.containers():
        resources = as_map(container.get("resources"))
        missing = [
            f"{group}.{name}"
            for group, name in REQUIRED_RESOURCES
            if not as_map(resources.get(group)).get(name)
        ]
        if missing:
            yield Finding(
                f"container {container.get('name')!r} sets no {', '.join(missing)}",
                field=f"{path}.resources",
                fix="set the component's cpu/memory parameters (or a resources trait), e.g. "
                "requests cpu 100m, memory 128Mi; limits memory 256Mi",
            )


def image_reference(image: str) -> tuple[str | None, str | None]:
    """``(tag, digest)`` of an image reference (either None when absent): a registry's port
    (``registry:5000/app``) is not a tag."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    tag = last.rpartition(":")[2] if ":" in last else None
    return tag or None, digest or None


@check(name="image-pinned", kinds=POD_KINDS)
def image_pinned(obj: CheckedObject) -> Iterator[Finding]:
    """Every image is pinned by a tag other than ``latest``, or by a digest, so a deploy
    runs what was tested and a rollback brings the old code back."""
    for path, container in obj.containers():
        image = container.get("image")
        if not isinstance(image, str) or not image:
            yield Finding(f"container {container.get('name')!r} has no image", field=f"{path}.image")
            continue
        tag, digest = image_reference(image)
        if digest is not None:
            continue
        if tag is None or tag == "latest":
            what = "has no tag (it means latest)" if tag is None else "is tagged latest"
            base = image.rsplit(":", 1)[0] if tag else image
            yield Finding(
                f"container {container.get('name')!r}: image {image!r} {what}",
                field=f"{path}.image",
                fix=f"pin it by version or digest: {base}:1.2.3 or {base}@sha256:<digest>",
            )


@check(name="probes-set", kinds=LONG_RUNNING)
def probes_set(obj: CheckedObject) -> Iterator[Finding]:
    """Every container of a long-running workload has a readiness probe (an error: without
    one a rollout sends traffic to pods that cannot serve), and a liveness probe (a warning:
    a hung process is never restarted)."""
    for path, container in obj.containers(init=False):
        name = container.get("name")
        if not container.get("readinessProbe"):
            yield Finding(
                f"container {name!r} has no readinessProbe",
                field=f"{path}.readinessProbe",
                fix="add a readiness probe (httpGet on a health endpoint, or tcpSocket on the port)",
            )
        if not container.get("livenessProbe"):
            yield Finding(
                f"container {name!r} has no livenessProbe",
                severity="warning",
                field=f"{path}.livenessProbe",
                fix="add a liveness probe, so a hung process is restarted",
            )


@check(name="no-privileged", kinds=POD_KINDS)
def no_privileged(obj: CheckedObject) -> Iterator[Finding]:
    """No container runs privileged (root on the node, every device)."""
    for path, container in obj.containers():
        context = as_map(container.get("securityContext"))
        if context.get("privileged") is True:
            yield Finding(
                f"container {container.get('name')!r} runs privileged",
                field=f"{path}.securityContext.privileged",
                fix="remove privileged: true; add only the capabilities it needs",
            )


def _few(names: Iterable[str], shown: int = 5) -> str:
    """The first names and how many more (a message about a large app stays one line)."""
    items = list(names)
    more = f", … ({len(items) - shown} more)" if len(items) > shown else ""
    return (", ".join(items[:shown]) + more) or "none"


def _pod_labels(app: CheckedApp) -> tuple[list[CheckedObject], dict[tuple[str, str, Any], set[int]]]:
    """The app's workloads, and which of them (by position) carry each ``(namespace, key, value)``
    pod label: a selector is then matched by intersecting sets, not by scanning every workload."""
    pods = [o for o in app.objects if o.pod_template is not None]
    index: dict[tuple[str, str, Any], set[int]] = {}
    for i, pod in enumerate(pods):
        labels = as_map(as_map(as_map(pod.pod_template).get("metadata")).get("labels"))
        for key, value in labels.items():
            index.setdefault((pod.namespace, key, value), set()).add(i)
    return pods, index


@check(name="service-selects-workload", scope="app", kinds=("Service",))
def service_selects_workload(app: CheckedApp) -> Iterator[Finding]:
    """Every Service with a selector selects the pods of a workload of the app (a typo in a
    label leaves a Service with no endpoints, which no readiness rule notices)."""
    pods, index = _pod_labels(app)
    workloads = _few(str(p) for p in pods)
    for svc in app.subjects:
        spec = as_map(svc.object.get("spec"))
        selector = as_map(spec.get("selector"))
        if not selector or spec.get("type") == "ExternalName":
            continue  # endpoints managed by hand, or a DNS name: nothing to select
        matching: set[int] | None = None
        for key, value in selector.items():
            found = index.get((svc.namespace, key, value), set())
            matching = found if matching is None else matching & found
            if not matching:
                break
        if not matching:
            shown = ", ".join(f"{k}={v}" for k, v in sorted(selector.items()))
            yield Finding(
                f"the selector {shown} matches the pods of no workload of the app (workloads: {workloads})",
                subject=svc,
                field="spec.selector",
                fix="make the selector match the labels of the workload's pod template",
            )


def _backends(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    default = spec.get("defaultBackend") or spec.get("backend")
    if isinstance(default, Mapping):
        yield "spec.defaultBackend", default
    for i, rule in enumerate(as_list(spec.get("rules"))):
        for j, path in enumerate(as_list(as_map(as_map(rule).get("http")).get("paths"))):
            backend = as_map(path).get("backend")
            if isinstance(backend, Mapping):
                yield f"spec.rules[{i}].http.paths[{j}].backend", backend


def _service_port(backend: Mapping[str, Any]) -> tuple[str | None, Any]:
    """The Service and port an Ingress backend names (``networking.k8s.io/v1`` or the older
    ``serviceName``/``servicePort``); None for a resource backend."""
    if isinstance(backend.get("service"), Mapping):
        service = as_map(backend.get("service"))
        port = as_map(service.get("port"))
        return service.get("name"), port.get("number", port.get("name"))
    return backend.get("serviceName"), backend.get("servicePort")


@check(name="ingress-backends-exist", scope="app", kinds=("Ingress",))
def ingress_backends_exist(app: CheckedApp) -> Iterator[Finding]:
    """Every Service an Ingress routes to is rendered by the app, with the port it names
    (otherwise the route answers 503 until someone notices)."""
    known = ""  # the app's Services, for the message: listed once, when first needed
    for ingress in app.subjects:
        for field, backend in _backends(as_map(ingress.object.get("spec"))):
            name, port = _service_port(backend)
            if name is None:
                continue  # a resource backend (a bucket): not a Service
            service = app.find("Service", str(name), ingress.namespace)
            if service is None:
                known = known or _few(s.name for s in app.of_kind("Service"))
                yield Finding(
                    f"routes to Service {name!r}, which the app does not render (Services: {known})",
                    subject=ingress,
                    field=field,
                    fix="render the Service in the app (a port, an expose trait), or fix the name",
                )
                continue
            ports = [as_map(p) for p in as_list(as_map(service.object.get("spec")).get("ports"))]
            if port is not None and not any(port in (p.get("port"), p.get("name")) for p in ports):
                shown = ", ".join(str(p.get("name") or p.get("port")) for p in ports) or "none"
                yield Finding(
                    f"routes to port {port!r} of Service {name!r}, which has no such port (ports: {shown})",
                    subject=ingress,
                    field=field,
                    fix="route to one of the Service's ports",
                )


CHECKS = (
    resources_set,
    image_pinned,
    probes_set,
    no_privileged,
    service_selects_workload,
    ingress_backends_exist,
)
