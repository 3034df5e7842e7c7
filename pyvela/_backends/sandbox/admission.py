"""What the sandbox's API server does to an object before storing it: validation and
defaulting (names, labels, sizes, Secret ``stringData``, Service IPs and node ports).

Errors read like the Kubernetes API server's, so a mistake caught by the sandbox is the
one a real cluster would report.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
import sqlite3
import string
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyvela._backends.protocol import refuses_update
from pyvela._backends.sandbox import podports as _podports
from pyvela._backends.sandbox import quantities as _quantities
from pyvela._backends.sandbox.kinds import CRD_KIND, KindInfo, kind_from_crd
from pyvela._core.objects import HELM_API_VERSION, HELM_KIND, Obj, deep_copy
from pyvela.errors import ClusterError, ImmutableFieldError

MAX_DATA = 1024 * 1024  # Secret / ConfigMap data
MAX_ANNOTATIONS = 256 * 1024
SERVICE_CIDR = ipaddress.ip_network("10.96.0.0/16")
NODE_PORTS = range(30000, 32768)
_SERVER_FIELDS = (
    "uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink",
    "deletionTimestamp", "deletionGracePeriodSeconds",
)  # fmt: skip
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1035 = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_BASE64 = (string.ascii_letters + string.digits + "+/").encode()
_QUALIFIED = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")


def invalid(kind: str, name: str, field: str, value: Any, why: str) -> ClusterError:
    cls = ImmutableFieldError if refuses_update(why) else ClusterError
    shown = json.dumps(value) if isinstance(value, str) else repr(value)  # Go's %q, as the API server
    return cls(
        f'{kind} "{name}" is invalid: {field}: Invalid value: {shown}: {why}',
        object=f"{kind} {name}",
        got=repr(value),
    )


def check_name(info: KindInfo, name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise ClusterError(f"{info.kind}: metadata.name: Required value: name or generateName is required")
    if info.group == "rbac.authorization.k8s.io":
        ok = name not in (".", "..") and "/" not in name and "%" not in name
        why = "may not contain '/' or '%'"
    elif info.kind in ("Namespace", "Service"):
        ok = len(name) <= 63 and bool((_DNS1035 if info.kind == "Service" else _LABEL).fullmatch(name))
        why = "a lowercase RFC 1123 label must consist of a-z, 0-9 or '-' (at most 63 characters)"
    else:
        ok = len(name) <= 253 and bool(_SUBDOMAIN.fullmatch(name))
        why = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'"
    if not ok:
        raise invalid(info.kind, name, "metadata.name", name, why)


#: Label and annotation keys found valid: a run writes the same few keys on every object.
_VALID_KEYS: set[str] = set()


def _check_key(info: KindInfo, name: str, field: str, key: Any) -> None:
    if type(key) is str and key in _VALID_KEYS:
        return
    prefix, _, rest = key.rpartition("/") if isinstance(key, str) else ("", "", "")
    ok = bool(rest) and len(rest) <= 63 and bool(_QUALIFIED.fullmatch(rest))
    ok = ok and (not prefix or (len(prefix) <= 253 and bool(_SUBDOMAIN.fullmatch(prefix))))
    if not ok:
        why = "must be [prefix/]name: name of alphanumerics, '-', '_' or '.' (at most 63), prefix a DNS name"
        raise invalid(info.kind, name, field, key, why)
    if type(key) is str and len(_VALID_KEYS) < 10_000:
        _VALID_KEYS.add(key)


def _check_metadata(info: KindInfo, name: str, metadata: Mapping[str, Any], at: str = "metadata") -> None:
    labels = metadata.get("labels")
    if labels is not None:
        if not isinstance(labels, Mapping):
            raise invalid(info.kind, name, f"{at}.labels", labels, "must be a map of strings")
        for key, value in labels.items():
            _check_key(info, name, f"{at}.labels", key)
            if not isinstance(value, str) or len(value) > 63 or (value and not _QUALIFIED.fullmatch(value)):
                why = "a valid label value must be 63 characters or less, alphanumeric, '-', '_' or '.'"
                raise invalid(info.kind, name, f"{at}.labels[{key}]", value, why)
    annotations = metadata.get("annotations")
    if annotations is not None:
        if not isinstance(annotations, Mapping):
            raise invalid(info.kind, name, f"{at}.annotations", annotations, "must be a map of strings")
        size = 0
        for key, value in annotations.items():
            _check_key(info, name, f"{at}.annotations", key)
            if not isinstance(value, str):
                raise invalid(info.kind, name, f"{at}.annotations[{key}]", value, "must be a string")
            size += len(key) + len(value)
        if size > MAX_ANNOTATIONS:
            why = f"Too long: must have at most {MAX_ANNOTATIONS} bytes"
            raise invalid(info.kind, name, f"{at}.annotations", "...", why)


class Made(dict[str, Any]):
    """An object a simulated controller built for one write (a workload's Pod): its own
    top-level fields and metadata, the rest read-only. Admitted without a deep copy: the
    write stores it before anyone else could change what it shares (the workload's template)."""


def normalise(obj: Mapping[str, Any], info: KindInfo, namespace: str) -> Obj:
    """A copy of ``obj`` fit to store: status and server-set metadata dropped, validated."""
    if not isinstance(obj, Mapping):
        raise ClusterError(f"an object must be a mapping, got {type(obj).__name__}")
    out: Obj = dict(obj) if type(obj) is Made else deep_copy(dict(obj))
    out.pop("status", None)
    metadata = out.get("metadata")
    if not isinstance(metadata, dict):
        raise ClusterError(f"{info.kind}: metadata: Required value")
    for field in _SERVER_FIELDS:
        metadata.pop(field, None)
    if info.namespaced:
        metadata["namespace"] = namespace
    else:
        metadata.pop("namespace", None)
    name = metadata.get("name")
    check_name(info, name)
    _check_metadata(info, str(name), metadata)
    template = _podports.template_metadata(info.group, info.kind, out)
    if template is not None:  # the API server checks a template's labels with its workload
        _check_metadata(info, str(name), template[1], template[0])
    if type(obj) is not Made:  # a made Pod's template was checked with its workload
        kind = (info.group, info.kind)
        port = _podports.problem(*kind, out) or _quantities.problem(*kind, out)
        if port is not None:
            raise invalid(info.kind, str(name), *port)
    if info.group == "" and info.kind == "Secret":
        _secret(out, str(name))
    elif info.group == "" and info.kind == "ConfigMap":
        _config_map(out, str(name))
    elif info.kind == CRD_KIND:
        kind_from_crd(out)
    elif info.kind == HELM_KIND and info.api_version == HELM_API_VERSION:
        _local_chart(out, str(name), namespace)
    return out


def _local_chart(out: Obj, name: str, namespace: str) -> None:
    """A HelmRelease of a local chart fails as ``helm upgrade`` would when the path is not there.

    Local means ``repoType: local``, or no repository and a name that is a path (``./x``,
    ``../x``, ``/x``); a bare name without a repository is left alone, as the sandbox
    cannot know which repositories the user's helm has. Relative paths are taken from the
    process's directory (and under ``repoURL`` for ``repoType: local``), as the helm CLI does.
    """
    spec = out.get("spec")
    chart = spec.get("chart") if isinstance(spec, Mapping) else None
    chart = {"name": chart} if isinstance(chart, str) else chart
    if not isinstance(chart, Mapping) or not isinstance(chart.get("name"), str) or not chart["name"]:
        return
    ref, repo, repo_type = chart["name"], chart.get("repoURL") or "", chart.get("repoType") or "helm"
    looks_local = not repo and ref.startswith(("./", "../", "/", "~"))
    if repo_type != "local" and not looks_local:
        return
    path = Path(ref).expanduser()
    if not path.is_absolute() and repo_type == "local" and isinstance(repo, str) and repo:
        path = Path(repo).expanduser() / path
    if not path.exists():
        raise ClusterError(
            f'{HELM_KIND} {namespace}/{name}: local chart {ref!r} does not exist: path "{path}" not found',
            object=f"{HELM_KIND} {namespace}/{name}",
            expected="a chart directory or .tgz archive (a relative path is from the current directory)",
            got=str(path.absolute()),
            fix="correct spec.chart.name (or repoURL), or package the chart there",
        )


def _base64_size(value: Any) -> int | None:
    """The decoded size of standard padded base64 text, or None when it is not that (fast: no decoding)."""
    if not isinstance(value, str) or not value.isascii():
        return None
    raw = value.encode("ascii")
    body = raw.rstrip(b"=")
    padding = len(raw) - len(body)
    if len(raw) % 4 or padding > 2 or body.translate(None, _BASE64):
        return None
    return len(raw) // 4 * 3 - padding


def _secret(out: Obj, name: str) -> None:
    data = out.get("data") or {}
    if not isinstance(data, dict):
        raise invalid("Secret", name, "data", data, "must be a map of base64 strings")
    string_data = out.pop("stringData", None) or {}
    if not isinstance(string_data, Mapping):
        raise invalid("Secret", name, "stringData", string_data, "must be a map of strings")
    for key, value in string_data.items():
        if not isinstance(value, str):
            raise invalid("Secret", name, f"stringData[{key}]", value, "must be a string")
        data[key] = base64.b64encode(value.encode()).decode()
    size = 0
    for key, value in data.items():
        decoded = _base64_size(value)
        if decoded is None:
            shown = value if not isinstance(value, str) or len(value) < 40 else value[:37] + "..."
            raise invalid("Secret", name, f"data[{key}]", shown, "illegal base64 data")
        size += decoded
    if size > MAX_DATA:
        raise invalid("Secret", name, "data", "...", f"Too long: must have at most {MAX_DATA} bytes")
    if data:
        out["data"] = data
    out.setdefault("type", "Opaque")


def _config_map(out: Obj, name: str) -> None:
    size = 0
    for field in ("data", "binaryData"):
        values = out.get(field) or {}
        if not isinstance(values, Mapping):
            raise invalid("ConfigMap", name, field, values, "must be a map of strings")
        for key, value in values.items():
            if not isinstance(value, str):
                raise invalid("ConfigMap", name, f"{field}[{key}]", value, "must be a string")
            size += len(value)
    if size > MAX_DATA:
        raise invalid("ConfigMap", name, "data", "...", f"Too long: must have at most {MAX_DATA} bytes")


# ----------------------------------------------------------------------------- Services
def _taken(conn: sqlite3.Connection, value: str) -> bool:
    return conn.execute("SELECT 1 FROM allocations WHERE value=?", (value,)).fetchone() is not None


def _reserve(conn: sqlite3.Connection, value: str, ns: str, name: str) -> None:
    conn.execute("INSERT OR REPLACE INTO allocations VALUES (?, ?, ?)", (value, ns, name))


def release(conn: sqlite3.Connection, ns: str, name: str | None = None) -> None:
    """Free the IPs and node ports of one Service (or of every Service in ``ns``)."""
    if name is None:
        freed = conn.execute("DELETE FROM allocations WHERE ns=? RETURNING value", (ns,)).fetchall()
    else:
        query = "DELETE FROM allocations WHERE ns=? AND name=? RETURNING value"
        freed = conn.execute(query, (ns, name)).fetchall()
    low = [o for (v,) in freed if not v.startswith("port:") and (o := _offset(v)) >= 2]
    if low:  # the lowest free IP may now be below where the next search starts
        conn.execute("UPDATE meta SET value = MIN(value, ?) WHERE key='next_ip'", (min(low),))


def _offset(ip: str) -> int:
    return int(ipaddress.ip_address(ip)) - int(SERVICE_CIDR.network_address)


def _free_ip(conn: sqlite3.Connection) -> str:
    # The lowest free IP, searched from ``meta.next_ip`` (every IP below it is taken; a
    # release lowers it): one indexed lookup per Service, where counting or scanning the
    # allocations made n Services cost n².
    row = conn.execute("SELECT value FROM meta WHERE key='next_ip'").fetchone()
    end = SERVICE_CIDR.num_addresses - 1  # the broadcast address is never handed out
    start = int(row[0]) if row is not None and 2 <= int(row[0]) < end else 2
    chosen = start if not _taken(conn, str(SERVICE_CIDR.network_address + start)) else None
    if chosen is None:
        query = "SELECT value FROM allocations WHERE value >= '10.96.' AND value < '10.96/'"
        used = {r[0] for r in conn.execute(query)}
        for offset in range(start, end):
            if str(SERVICE_CIDR.network_address + offset) not in used:
                chosen = offset
                break
        else:
            raise ClusterError("the sandbox's service CIDR 10.96.0.0/16 is full")
    conn.execute("INSERT OR REPLACE INTO meta VALUES ('next_ip', ?)", (chosen + 1,))
    return str(SERVICE_CIDR.network_address + chosen)


def _free_port(conn: sqlite3.Connection) -> int:
    used = {
        r[0] for r in conn.execute("SELECT value FROM allocations WHERE value >= 'port:' AND value < 'port;'")
    }
    for port in NODE_PORTS:
        if f"port:{port}" not in used:
            return port
    raise ClusterError("the sandbox has no free node port in 30000-32767")


def service(conn: sqlite3.Connection, out: Obj, old: Obj | None) -> None:
    """Default a Service and allocate its cluster IP and node ports (once; kept on updates)."""
    metadata, ns = out["metadata"], out["metadata"]["namespace"]
    name = metadata["name"]
    spec = out.setdefault("spec", {})
    if not isinstance(spec, dict):
        raise invalid("Service", name, "spec", spec, "must be a mapping")
    old_spec: dict[str, Any] = {}
    if old is not None and isinstance(old.get("spec"), dict):
        old_spec = old["spec"]
    kind = spec.setdefault("type", "ClusterIP")
    if kind not in ("ClusterIP", "NodePort", "LoadBalancer", "ExternalName"):
        raise invalid(
            "Service",
            name,
            "spec.type",
            kind,
            "supported values: ClusterIP, ExternalName, LoadBalancer, NodePort",
        )
    if old is not None:  # a new Service has nothing allocated (deleting one releases its own)
        release(conn, ns, name)
    if kind == "ExternalName":
        spec.pop("clusterIP", None)
        spec.pop("clusterIPs", None)
    else:
        _cluster_ip(conn, spec, old_spec, ns, name)
    spec.setdefault("sessionAffinity", "None")
    ports = spec.get("ports") or []
    if not isinstance(ports, list):
        raise invalid("Service", name, "spec.ports", ports, "must be a list")
    old_ports = {
        (p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
        for p in old_spec.get("ports") or []
        if isinstance(p, dict)
    }
    for i, port in enumerate(ports):
        if (
            not isinstance(port, dict)
            or not isinstance(port.get("port"), int)
            or not 0 < port["port"] < 65536
        ):
            raise invalid("Service", name, f"spec.ports[{i}].port", port, "must be a port number 1-65535")
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port["port"])
        if kind in ("NodePort", "LoadBalancer"):
            node_port = (
                port.get("nodePort") or old_ports.get((port["port"], port["protocol"])) or _free_port(conn)
            )
            if (
                not isinstance(node_port, int)
                or node_port not in NODE_PORTS
                or _taken(conn, f"port:{node_port}")
            ):
                why = "provided port is already allocated or outside 30000-32767"
                raise invalid("Service", name, f"spec.ports[{i}].nodePort", node_port, why)
            port["nodePort"] = node_port
            _reserve(conn, f"port:{node_port}", ns, name)
        else:
            port.pop("nodePort", None)


def _cluster_ip(conn: sqlite3.Connection, spec: Obj, old_spec: Mapping[str, Any], ns: str, name: str) -> None:
    old_ip = old_spec.get("clusterIP") if old_spec.get("type") != "ExternalName" else None
    want = spec.get("clusterIP")
    wants = spec.get("clusterIPs")
    if wants not in (None, []) and (not isinstance(wants, list) or (want and wants[0] != want)):
        raise invalid("Service", name, "spec.clusterIPs", wants, "must hold spec.clusterIP first")
    want = want or (wants[0] if wants else None)
    if old_ip:
        if want not in (None, "", old_ip):
            raise invalid(
                "Service",
                name,
                "spec.clusterIPs[0]",
                want,
                f"may not change once set (field is immutable: {old_ip})",
            )
        ip = old_ip
    elif want == "None":
        ip = "None"
    elif want:
        try:
            address = ipaddress.ip_address(want)
        except ValueError as exc:
            raise invalid("Service", name, "spec.clusterIP", want, "must be a valid IP address") from exc
        if address not in SERVICE_CIDR or str(address) in ("10.96.0.0", "10.96.255.255"):
            raise invalid(
                "Service", name, "spec.clusterIP", want, "provided IP is not in the valid range 10.96.0.0/16"
            )
        if _taken(conn, str(address)) or str(address) == "10.96.0.1":
            raise invalid(
                "Service",
                name,
                "spec.clusterIP",
                want,
                f"failed to allocate IP {want}: provided IP is already allocated",
            )
        ip = str(address)
    else:
        ip = _free_ip(conn)
    if ip != "None":
        _reserve(conn, ip, ns, name)
    spec["clusterIP"] = ip
    spec["clusterIPs"] = [ip]
    if ip != "None":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
