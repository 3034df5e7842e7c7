"""Parameter types shared by the standard components and traits (env vars, probes, volumes).

Nested parameter classes are checked as a whole when the definition's parameters are
built: :class:`Params` walks every nested value with typeguard (every item of every
collection), so ``EnvVar(name=3)`` inside ``webservice(env=...)`` is a ParameterError at
the call site, not a broken manifest at apply time.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal, cast

import attrs

from pyvela._core.typecheck import Check, accepts, checker

Protocol = Literal["TCP", "UDP", "SCTP"]
PullPolicy = Literal["Always", "Never", "IfNotPresent"]
ExposeType = Literal["ClusterIP", "NodePort", "LoadBalancer"]

#: An immutable empty map, the default of map parameters that KubeVela always renders.
EMPTY: Mapping[str, str] = MappingProxyType({})
_NOTHING: Mapping[str, Any] = MappingProxyType({})


def as_map(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one (for JSON-like data of any shape)."""
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else _NOTHING


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a list, else an empty one."""
    return list(cast(Sequence[Any], value)) if isinstance(value, list) else []


_FIELDS: dict[type[Any], list[tuple[str, Any, Check, bool]]] = {}


def _fields(cls: type[Any]) -> list[tuple[str, Any, Check, bool]]:
    """Each field's name, annotation, compiled check (True: accepted; False: typeguard decides),
    and whether its value may hold a nested object."""
    found = _FIELDS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _FIELDS[cls] = [
            (f.name, tp, checker(tp), _may_nest(tp)) for f in attrs.fields(cls) for tp in [hints[f.name]]
        ]
    return found


_SCALARS = frozenset({str, int, bool, float, type(None)})


def _may_nest(tp: Any) -> bool:
    """Whether a value of ``tp`` can hold a parameter object: a field of ``str`` or
    ``dict[str, str]`` was checked whole already and holds nothing to walk into. Anything
    not plainly made of scalars (``Any``, a class, a type variable) may."""
    origin = typing.get_origin(tp)
    if origin is Literal:
        return False
    if origin is typing.Annotated:
        return _may_nest(typing.get_args(tp)[0])
    if origin is None:
        return tp not in _SCALARS
    return any(_may_nest(arg) for arg in typing.get_args(tp) if arg is not Ellipsis)


def _walk(value: Any, path: str) -> None:
    """Type-check the fields of nested parameter objects, then their cross-field rules."""
    if type(value) in _SCALARS:
        return
    cls: type[object] = type(cast(object, value))
    if hasattr(cls, "__attrs_attrs__"):
        for name, tp, check, nests in _fields(cls):
            item = getattr(value, name)
            if check(item) or accepts(item, tp):
                if nests and type(item) not in _SCALARS:
                    _walk(item, f"{path}.{name}")
                continue
            here = f"{path}.{name}"
            import typeguard

            try:
                typeguard.check_type(
                    item, tp, collection_check_strategy=typeguard.CollectionCheckStrategy.ALL_ITEMS
                )
                problem = f"is not {tp}"
            except typeguard.TypeCheckError as exc:
                problem = str(exc)
            raise TypeError(f"{here}: {problem} (got {item!r:.80})")
        if isinstance(value, Checked):
            value.validate()
    elif isinstance(value, tuple | list):
        for i, item in enumerate(cast(Sequence[Any], value)):
            _walk(item, f"{path}[{i}]")
    elif isinstance(value, Mapping):
        for key, item in as_map(value).items():
            _walk(item, f"{path}[{key!r}]")


class Checked:
    """Base of nested parameter classes: ``validate`` holds their cross-field rules.

    They are checked as part of the definition's parameters (see :class:`Params`), so a
    mistake deep inside ``webservice(...)`` is reported at that call site.
    """

    def validate(self) -> None:
        """Cross-field rules (overridden where KubeVela's CUE has them)."""


class Params(Checked):
    """Base of a definition's parameter class: checks every nested value when built.

    The top-level fields were already checked by pyvela; pyvela turns the TypeError or
    ValueError raised here into a ParameterError naming the call site and definition.
    """

    def __attrs_post_init__(self) -> None:
        # The top-level fields were checked by pyvela already: only nested values are walked.
        for name, _tp, _check, nests in _fields(type(self)):
            if nests:
                value = getattr(self, name)
                if type(value) not in _SCALARS:
                    _walk(value, name)
        self.validate()


# --------------------------------------------------------------------------- env


@attrs.frozen(kw_only=True)
class KeyRef(Checked):
    """A key of a Secret or ConfigMap in the pod's namespace.

    Attributes:
        name: The Secret's or ConfigMap's name.
        key: The key whose value is used.
    """

    name: str
    key: str


@attrs.frozen(kw_only=True)
class FieldRef(Checked):
    """A field of the pod itself (the downward API).

    Attributes:
        field_path: The field's path, e.g. ``status.podIP``.
    """

    field_path: str


@attrs.frozen(kw_only=True)
class EnvValueFrom(Checked):
    """Where an environment variable's value comes from (set one of them).

    Attributes:
        secret_key_ref: A key of a Secret.
        config_map_key_ref: A key of a ConfigMap.
        field_ref: A field of the pod (only the sidecar trait has it in KubeVela).
    """

    secret_key_ref: KeyRef | None = None
    config_map_key_ref: KeyRef | None = None
    field_ref: FieldRef | None = None


@attrs.frozen(kw_only=True)
class EnvVar(Checked):
    """One environment variable of a container.

    Attributes:
        name: The variable's name.
        value: Its literal value.
        value_from: Take the value from a Secret, a ConfigMap or the pod instead.
    """

    name: str
    value: str | None = None
    value_from: EnvValueFrom | None = None


def env_list(env: tuple[EnvVar, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for var in env:
        item: dict[str, Any] = {"name": var.name}
        if var.value is not None:
            item["value"] = var.value
        if var.value_from is not None:
            source: dict[str, Any] = {}
            vf = var.value_from
            if vf.secret_key_ref is not None:
                source["secretKeyRef"] = {"name": vf.secret_key_ref.name, "key": vf.secret_key_ref.key}
            if vf.config_map_key_ref is not None:
                source["configMapKeyRef"] = {
                    "name": vf.config_map_key_ref.name,
                    "key": vf.config_map_key_ref.key,
                }
            if vf.field_ref is not None:
                source["fieldRef"] = {"fieldPath": vf.field_ref.field_path}
            item["valueFrom"] = source
        out.append(item)
    return out


# --------------------------------------------------------------------------- probes


@attrs.frozen(kw_only=True)
class ExecAction(Checked):
    """Run a command in the container; exit code 0 passes.

    Attributes:
        command: The command and its arguments, one token per item.
    """

    command: tuple[str, ...]


@attrs.frozen(kw_only=True)
class HttpHeader(Checked):
    """A header sent with an HTTP probe.

    Attributes:
        name: Header name.
        value: Header value.
    """

    name: str
    value: str


@attrs.frozen(kw_only=True)
class HttpGetAction(Checked):
    """Send an HTTP GET to the container; a 2xx/3xx answer passes.

    Attributes:
        path: The request path.
        port: The container port to send it to.
        host: The host name to connect to (default: the pod IP).
        scheme: ``HTTP`` or ``HTTPS`` (Kubernetes' default: HTTP).
        http_headers: Extra request headers.
    """

    path: str
    port: int
    host: str | None = None
    scheme: str | None = None
    http_headers: tuple[HttpHeader, ...] | None = None


@attrs.frozen(kw_only=True)
class TcpSocketAction(Checked):
    """Open a TCP connection to the container; connecting passes.

    Attributes:
        port: The container port.
    """

    port: int


@attrs.frozen(kw_only=True)
class HealthProbe(Checked):
    """How Kubernetes checks a container (give exactly one of exec, http_get, tcp_socket).

    Attributes:
        exec: Run a command in the container.
        http_get: Send an HTTP GET request.
        tcp_socket: Open a TCP connection.
        initial_delay_seconds: Seconds after the container starts before the first check.
        period_seconds: Seconds between checks.
        timeout_seconds: Seconds before a check counts as failed.
        success_threshold: Passing checks in a row that make a failing container pass again.
        failure_threshold: Failing checks in a row that make the container fail.
    """

    exec: ExecAction | None = None
    http_get: HttpGetAction | None = None
    tcp_socket: TcpSocketAction | None = None
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 1
    success_threshold: int = 1
    failure_threshold: int = 3


def probe(p: HealthProbe) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if p.exec is not None:
        out["exec"] = {"command": list(p.exec.command)}
    if p.http_get is not None:
        get: dict[str, Any] = {"path": p.http_get.path, "port": p.http_get.port}
        if p.http_get.host is not None:
            get["host"] = p.http_get.host
        if p.http_get.scheme is not None:
            get["scheme"] = p.http_get.scheme
        if p.http_get.http_headers is not None:
            get["httpHeaders"] = [{"name": h.name, "value": h.value} for h in p.http_get.http_headers]
        out["httpGet"] = get
    if p.tcp_socket is not None:
        out["tcpSocket"] = {"port": p.tcp_socket.port}
    out.update(
        initialDelaySeconds=p.initial_delay_seconds,
        periodSeconds=p.period_seconds,
        timeoutSeconds=p.timeout_seconds,
        successThreshold=p.success_threshold,
        failureThreshold=p.failure_threshold,
    )
    return out


def process_fields(
    cmd: tuple[str, ...] | None, args: tuple[str, ...] | None, env: tuple[EnvVar, ...] | None
) -> dict[str, Any]:
    """A container's ``command``, ``args`` and ``env``: those given (KubeVela's cmd, args, env)."""
    out: dict[str, Any] = {}
    if cmd is not None:
        out["command"] = list(cmd)
    if args is not None:
        out["args"] = list(args)
    if env is not None:
        out["env"] = env_list(env)
    return out


def probe_fields(liveness: HealthProbe | None, readiness: HealthProbe | None) -> dict[str, Any]:
    """A container's ``livenessProbe`` and ``readinessProbe``: those given."""
    out: dict[str, Any] = {}
    if liveness is not None:
        out["livenessProbe"] = probe(liveness)
    if readiness is not None:
        out["readinessProbe"] = probe(readiness)
    return out


# --------------------------------------------------------------------------- misc


@attrs.frozen(kw_only=True)
class HostAlias(Checked):
    """Extra lines for the pod's /etc/hosts.

    Attributes:
        ip: The address.
        hostnames: The names that resolve to it.
    """

    ip: str
    hostnames: tuple[str, ...]


def host_aliases(aliases: tuple[HostAlias, ...]) -> list[dict[str, Any]]:
    return [{"ip": a.ip, "hostnames": list(a.hostnames)} for a in aliases]


def resources(cpu: str | None, memory: str | None) -> dict[str, Any] | None:
    """Requests equal to limits, as KubeVela's workloads set them."""
    amounts = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    return {"limits": dict(amounts), "requests": dict(amounts)} if amounts else None
