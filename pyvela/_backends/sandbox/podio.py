"""The sandbox's answer to ``pyvela logs``, ``exec`` and ``port-forward``.

No process runs in the sandbox: its Pods are records. ``pod_logs`` gives simulated lines,
the same for the same Pod every time, that say so and show what a kubelet would have
started (image, command, arguments, the container's state); exec and port-forward need a
process and are refused with a ClusterError that says to target a real cluster.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pyvela._backends.fields import mapping, text
from pyvela._backends.podio import LogLine
from pyvela._core.objects import Obj, ObjectRef
from pyvela.errors import ClusterError, NotFoundError, PyvelaError

SIMULATED = "[simulated by the pyvela sandbox: no process runs here]"


class SandboxPodIO:
    """:class:`~pyvela._backends.podio.PodIO` for the sandbox (mixed into ``Sandbox``)."""

    description: str

    if TYPE_CHECKING:

        def get(self, ref: ObjectRef) -> Obj | None: ...  # the Sandbox's own

    def _pod(self, namespace: str, pod: str) -> dict[str, Any]:
        live = self.get(ObjectRef("v1", "Pod", namespace, pod))
        if live is None:
            raise NotFoundError(f"pod {namespace}/{pod} does not exist in {self.description}")
        return dict(live)

    def pod_logs(
        self,
        namespace: str,
        pod: str,
        container: str,
        *,
        follow: bool = False,
        since_seconds: int | None = None,
        stop: threading.Event | None = None,
    ) -> Iterator[LogLine]:
        live = self._pod(namespace, pod)
        spec = mapping(live.get("spec"))
        containers = [mapping(c) for c in spec.get("initContainers") or []] + [
            mapping(c) for c in spec.get("containers") or []
        ]
        found = next((c for c in containers if c.get("name") == container), None)
        if found is None:
            names = ", ".join(text(c.get("name")) for c in containers) or "none"
            raise NotFoundError(
                f"pod {namespace}/{pod} has no container {container!r}", expected=f"one of {names}"
            )
        for line in simulated_lines(live, found):
            yield LogLine(pod=pod, container=container, text=line)
        # A followed sandbox log has nothing more to say: it ends instead of hanging.

    def pod_exec(
        self,
        namespace: str,
        pod: str,
        container: str,
        command: Sequence[str],
        *,
        out: Callable[[str, bytes], None],
    ) -> int:
        self._pod(namespace, pod)
        raise needs_cluster("exec")

    def port_forward(
        self,
        namespace: str,
        pod: str,
        *,
        local_port: int,
        remote_port: int,
        ready: Callable[[int], None],
        stop: threading.Event,
        on_error: Callable[[PyvelaError], None] | None = None,
    ) -> None:
        self._pod(namespace, pod)
        raise needs_cluster("port-forward")


def needs_cluster(what: str) -> ClusterError:
    return ClusterError(
        f"{what} needs a real cluster: the sandbox runs no process (its Pods are records)",
        fix="target a cluster with --context NAME or --kubeconfig FILE; `pyvela logs` works on the sandbox",
    )


def simulated_lines(pod: Mapping[str, Any], container: Mapping[str, Any]) -> list[str]:
    """What the log says for ``container`` of ``pod``: a function of the Pod alone (deterministic)."""
    name = text(container.get("name")) or "?"
    lines = [f"{SIMULATED} pod {text(mapping(pod.get('metadata')).get('name'))}, container {name}"]
    lines.append(f"image {text(container.get('image')) or '(none)'}")
    command = [str(c) for c in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    if command or args:
        lines.append("would run: " + " ".join(command + args))
    else:
        lines.append("would run: the image's entrypoint")
    ports = [mapping(p) for p in container.get("ports") or []]
    if ports:
        lines.append(
            "ports: " + ", ".join(f"{p.get('containerPort')}/{p.get('protocol') or 'TCP'}" for p in ports)
        )
    state = _state_of(pod, name)
    lines.append(f"state: {state}")
    return lines


def _state_of(pod: Mapping[str, Any], container: str) -> str:
    status = mapping(pod.get("status"))
    for key in ("initContainerStatuses", "containerStatuses"):
        for cs in status.get(key) or []:
            cs = mapping(cs)
            if cs.get("name") != container:
                continue
            state = mapping(cs.get("state"))
            for phase in ("running", "waiting", "terminated"):
                if phase in state:
                    detail = mapping(state[phase])
                    reason = text(detail.get("reason"))
                    return phase + (f" ({reason})" if reason else "")
    return text(status.get("phase")) or "unknown"
