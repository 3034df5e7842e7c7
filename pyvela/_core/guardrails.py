"""Guardrails: ``@check`` definitions, rules every rendered object (or the whole rendered app)
must pass before anything is applied.

A check is a pure function. An *object* check receives one :class:`CheckedObject` (a rendered
manifest and where it comes from); an *app* check receives the :class:`CheckedApp` (every
object the app renders). Either returns (or yields) :class:`Finding`\\ s: nothing when the
object passes. The decorator is pure like ``@component``: it returns an immutable
:class:`CheckDefinition` and registers nothing; a check is on for an app when its catalogue
holds it (see ``docs/guardrails.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, overload

import attrs

from pyvela._core.schema import check_name, describe, where_of
from pyvela.errors import DefinitionError, Location

#: ``error`` stops a render, diff or deploy (unless waived); ``warning`` is shown only.
Severity = Literal["error", "warning"]
#: What a check looks at: one object at a time, or the whole rendered app at once.
Scope = Literal["object", "app"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning")

#: Kinds whose pods run until stopped (probes make sense for them; a Job's pods finish).
LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout"})
#: Kinds that hold a pod template (or are a Pod).
POD_KINDS = LONG_RUNNING | {"Job", "CronJob", "Pod"}


@attrs.frozen
class Finding:
    """What a check reports about an object: it fails the rule.

    Args:
        message: What is wrong, in one sentence (``container 'web' runs nginx:latest``).
        fix: What to change (``pin the image by tag, e.g. nginx:1.27``).
        severity: Overrides the check's own severity for this finding (None: the check's).
        field: Where in the object (``spec.template.spec.containers[web].image``).
        subject: The object the finding is about, for an app check (None: the checked
            object for an object check, the app itself for an app check).
    """

    message: str
    fix: str | None = attrs.field(default=None, kw_only=True)
    severity: Severity | None = attrs.field(default=None, kw_only=True)
    field: str | None = attrs.field(default=None, kw_only=True)
    subject: CheckedObject | None = attrs.field(default=None, kw_only=True, eq=False)


@attrs.frozen(kw_only=True)
class CheckedObject:
    """One rendered object, as a check sees it. Checks read it and never change it.

    Attributes:
        object: The manifest as it will be applied (ownership labels included).
        component: The component that renders it.
        definition: That component's definition name (``webservice``).
        trait: The trait that renders it (None: the component itself).
        output: Its output name (None: the component's workload).
        where: The app's line that uses the component (or the trait, for a trait's object).
    """

    object: Mapping[str, Any] = attrs.field(repr=False)
    component: str
    definition: str
    trait: str | None = None
    output: str | None = None
    where: Location | None = None

    @property
    def api_version(self) -> str:
        return str(self.object.get("apiVersion") or "")

    @property
    def kind(self) -> str:
        return str(self.object.get("kind") or "")

    @property
    def name(self) -> str:
        return str(self._meta.get("name") or "")

    @property
    def namespace(self) -> str:
        return str(self._meta.get("namespace") or "")

    @property
    def labels(self) -> Mapping[str, str]:
        labels = self._meta.get("labels")
        return labels if isinstance(labels, Mapping) else {}

    @property
    def is_workload(self) -> bool:
        return self.output is None

    @property
    def _meta(self) -> Mapping[str, Any]:
        meta = self.object.get("metadata")
        return meta if isinstance(meta, Mapping) else {}

    @property
    def pod_template(self) -> Mapping[str, Any] | None:
        """The pod template (``metadata`` and ``spec``) of a workload; a Pod is its own; None
        for objects without pods."""
        kind, spec = self.kind, self.object.get("spec")
        if kind not in POD_KINDS or not isinstance(spec, Mapping):
            return None
        if kind == "Pod":
            return self.object
        if kind == "CronJob":
            job = spec.get("jobTemplate")
            spec = job.get("spec") if isinstance(job, Mapping) else None
            if not isinstance(spec, Mapping):
                return None
        template = spec.get("template")
        return template if isinstance(template, Mapping) else None

    @property
    def pod_spec(self) -> Mapping[str, Any] | None:
        template = self.pod_template
        spec = template.get("spec") if template is not None else None
        return spec if isinstance(spec, Mapping) else None

    def containers(self, *, init: bool = True) -> list[tuple[str, Mapping[str, Any]]]:
        """``(field path, container)`` of every container (init containers too unless
        ``init=False``); the path names the container (``…containers[web]``), never an index."""
        spec = self.pod_spec
        if spec is None:
            return []
        base = _pod_spec_path(self.kind)
        out = []
        for key in ("containers", "initContainers") if init else ("containers",):
            for c in spec.get(key) or []:
                if isinstance(c, Mapping):
                    out.append((f"{base}.{key}[{c.get('name', '?')}]", c))
        return out

    def __str__(self) -> str:
        ns = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {ns}{self.name}"


def _pod_spec_path(kind: str) -> str:
    if kind == "Pod":
        return "spec"
    if kind == "CronJob":
        return "spec.jobTemplate.spec.template.spec"
    return "spec.template.spec"


@attrs.frozen(kw_only=True)
class CheckedApp:
    """Every object an app renders, as an app check sees it.

    Attributes:
        name: The application's name.
        namespace: The namespace it deploys to.
        objects: Every rendered object, in the app's order.
        subjects: The objects the check judges (those its selectors match; all without any).
    """

    name: str
    namespace: str
    objects: tuple[CheckedObject, ...]
    subjects: tuple[CheckedObject, ...] = ()
    # Built on first use: an app check that looks up an object per subject stays linear.
    _by_kind: dict[str, list[CheckedObject]] = attrs.field(init=False, factory=dict, eq=False, repr=False)
    _by_name: dict[tuple[str, str], list[CheckedObject]] = attrs.field(
        init=False, factory=dict, eq=False, repr=False
    )

    def _index(self) -> None:
        if self._by_kind or not self.objects:
            return
        for o in self.objects:
            self._by_kind.setdefault(o.kind, []).append(o)
            self._by_name.setdefault((o.kind, o.name), []).append(o)

    def of_kind(self, *kinds: str) -> list[CheckedObject]:
        """The objects of these kinds (``Service``), in order."""
        self._index()
        if len(kinds) == 1:
            return list(self._by_kind.get(kinds[0], ()))
        return [o for o in self.objects if o.kind in kinds]

    def find(self, kind: str, name: str, namespace: str | None = None) -> CheckedObject | None:
        """The object of this kind and name (in ``namespace``, if given), or None."""
        self._index()
        for o in self._by_name.get((kind, name), ()):
            if namespace is None or o.namespace == namespace:
                return o
        return None


#: What a check function may return: findings (a list, or yielded), one finding, or None.
Findings = Iterable[Finding] | Finding | None
ObjectCheck = Callable[[CheckedObject], Findings]
AppCheck = Callable[[CheckedApp], Findings]


@attrs.frozen(kw_only=True, eq=False)
class CheckDefinition:
    """A guardrail: a rule over rendered objects, made by :func:`check`.

    Attributes:
        name: The rule's name (``image-pinned``), what waivers and reports name.
        fn: The check function.
        scope: ``object`` (``fn`` gets a :class:`CheckedObject`) or ``app`` (a :class:`CheckedApp`).
        severity: Of its findings, unless a finding says otherwise.
        kinds: Object kinds it judges (empty: every kind).
        components: Component names it judges (empty: every component).
        component_types: Component definitions it judges (``webservice``; empty: all).
        labels: Labels an object must carry (every one, with this value) to be judged.
        fix: The fix shown for a finding that gives none.
        description: The function's docstring.
        where: Where the function is defined.
    """

    name: str
    fn: ObjectCheck | AppCheck = attrs.field(repr=False)
    scope: Scope = "object"
    severity: Severity = "error"
    kinds: tuple[str, ...] = ()
    components: tuple[str, ...] = ()
    component_types: tuple[str, ...] = ()
    labels: Mapping[str, str] = attrs.field(factory=dict)
    fix: str | None = None
    description: str = ""
    where: Location
    #: Checks have no parameters; the attribute is there for what lists definitions.
    params: None = None

    def schema(self) -> dict[str, dict[str, Any]]:
        return {}

    def selects(self, obj: CheckedObject) -> bool:
        """Whether this check judges ``obj`` (every selector given holds)."""
        if self.kinds and obj.kind not in self.kinds:
            return False
        if self.components and obj.component not in self.components:
            return False
        if self.component_types and obj.definition not in self.component_types:
            return False
        labels = obj.labels
        return all(labels.get(k) == v for k, v in self.labels.items())

    def with_severity(self, severity: Severity) -> CheckDefinition:
        """This check with another severity (a platform that only warns about a rule)."""
        _severity(severity, self.name, self.where)
        return attrs.evolve(self, severity=severity)


def _severity(value: object, name: str, where: Location) -> None:
    if value not in SEVERITIES:
        raise DefinitionError(
            f"check {name!r}: severity must be 'error' or 'warning'", where=where, got=repr(value)
        )


def _names(value: object, what: str, name: str, where: Location) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise DefinitionError(
            f"check {name!r}: {what} must be a tuple of names", where=where, got=repr(value)
        )
    items = tuple(value)
    if not all(isinstance(v, str) and v for v in items):
        raise DefinitionError(
            f"check {name!r}: {what} must hold non-empty strings", where=where, got=repr(items)
        )
    return items


@overload
def check(
    *,
    name: str,
    severity: Severity = "error",
    scope: Literal["object"] = "object",
    kinds: Iterable[str] = (),
    components: Iterable[str] = (),
    component_types: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    fix: str | None = None,
) -> Callable[[ObjectCheck], CheckDefinition]: ...


@overload
def check(
    *,
    name: str,
    severity: Severity = "error",
    scope: Literal["app"],
    kinds: Iterable[str] = (),
    components: Iterable[str] = (),
    component_types: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    fix: str | None = None,
) -> Callable[[AppCheck], CheckDefinition]: ...


def check(
    *,
    name: str,
    severity: Severity = "error",
    scope: Scope = "object",
    kinds: Iterable[str] = (),
    components: Iterable[str] = (),
    component_types: Iterable[str] = (),
    labels: Mapping[str, str] | None = None,
    fix: str | None = None,
) -> Callable[[Any], CheckDefinition]:
    """Make a guardrail from a pure function over rendered objects.

    Args:
        name: The rule's name: a lowercase DNS-style name (``image-pinned``).
        severity: ``error`` (the default) stops ``render``, ``diff``, ``deploy`` and fails
            ``pyvela check``, unless the app waives the rule for the component
            (``waive-checks`` policy); ``warning`` is shown and never stops anything.
        scope: ``object``: the function gets each selected :class:`CheckedObject`;
            ``app``: it gets the :class:`CheckedApp` once (every object, and in ``subjects``
            the selected ones): for rules across objects (a Service selects a workload).
        kinds: The object kinds judged (``("Deployment", "StatefulSet")``; empty: all).
        components: The component names judged (empty: all).
        component_types: The component definitions judged (``("webservice",)``; empty: all).
        labels: Labels an object must carry to be judged.
        fix: The fix shown with a finding that gives none of its own.

    The function returns or yields :class:`Finding`\\ s (nothing: the object passes). It
    must not change the objects, read files or the network: it runs in every ``render``.
    Its docstring is the rule's description (``pyvela defs``, ``pyvela check`` reports).

    Example::

        @check(name="no-host-network", kinds=("Deployment",))
        def no_host_network(obj: CheckedObject) -> Iterator[Finding]:
            \"\"\"Pods do not share the node's network.\"\"\"
            if (obj.pod_spec or {}).get("hostNetwork"):
                yield Finding("the pods use the host's network", field="spec.template.spec.hostNetwork",
                              fix="remove hostNetwork")
    """

    def decorate(fn: Any) -> CheckDefinition:
        where = where_of(fn)
        check_name(name, where)
        if not callable(fn):
            raise DefinitionError(f"check {name!r}: @check decorates a function", where=where, got=repr(fn))
        _severity(severity, name, where)
        if scope not in ("object", "app"):
            raise DefinitionError(
                f"check {name!r}: scope must be 'object' or 'app'", where=where, got=repr(scope)
            )
        chosen = labels or {}
        if not isinstance(chosen, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in chosen.items()
        ):
            raise DefinitionError(
                f"check {name!r}: labels must map strings to strings", where=where, got=repr(labels)
            )
        return CheckDefinition(
            name=name,
            fn=fn,
            scope=scope,
            severity=severity,
            kinds=_names(kinds, "kinds", name, where),
            components=_names(components, "components", name, where),
            component_types=_names(component_types, "component_types", name, where),
            labels=dict(chosen),
            fix=fix,
            description=describe(fn),
            where=where,
        )

    return decorate
