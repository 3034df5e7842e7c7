"""The one exception tree of pyvela.

Every error pyvela raises on purpose derives from :class:`PyvelaError` and carries
structured context (where, which component/step/parameter, expected vs got, the fix)
so the CLI can print one clear message and tests can assert on fields, not text::

    PyvelaError
    ├── DefinitionError            a definition is malformed (platform engineer's error)
    ├── AppError                   an application module cannot be used as written
    │   ├── AppLoadError           file missing, import failed, no `app` in it
    │   ├── ParameterError         a parameter value has the wrong type / is missing / unknown
    │   ├── UnknownDefinitionError the app uses a definition the catalogue does not hold
    │   ├── DuplicateNameError     two components / steps share a name
    │   ├── DanglingReferenceError a reference names a component / step that does not exist
    │   ├── CycleError             depends-on / data references form a cycle
    │   └── GuardrailError         rendered objects fail a guardrail (``@check``) with an error
    ├── RenderError                a definition raised while rendering a component or trait
    ├── WorkflowError              the workflow did not succeed
    │   ├── StepError              a step raised, failed, or yielded something invalid
    │   ├── StepTimeout            a step ran past its timeout
    │   ├── NotReadyError          an object failed its readiness rule (fail fast)
    │   └── LockedError            another deploy of the same app holds the lock
    ├── StateError                 the state record is corrupt or belongs to something else
    ├── ClusterError               the cluster (sandbox or real) refused or failed a request
    │   ├── NotFoundError
    │   ├── AlreadyExistsError
    │   ├── ConflictError          resourceVersion precondition or field-manager conflict
    │   ├── OwnershipError         an object in the way is not owned by this app
    │   ├── UnknownKindError       the cluster does not serve the kind (CRD missing)
    │   ├── ImmutableFieldError    an update changes a field that cannot change (a Job's template)
    │   └── TransientError         worth retrying (429, 5xx, connection reset, watch expired)
    └── ConfigCentreError          the configuration centre (Apollo or the sandbox's) failed
        ├── ConfigAuthError        401/403: token or signature rejected
        ├── ConfigNotFoundError    404: app / cluster / namespace / key / release missing
        └── ConfigTransientError   429 / 5xx / connection errors, retried with backoff

``transient`` is True on errors worth retrying; the runner never retries the others, nor
one whose ``retried`` is True: its client already retried under its own deadline, and retries
never nest. Every message, expected/got/fix and string context passes through :func:`redact`,
so URL credentials and ``Authorization`` values never reach output, logs or state.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "AlreadyExistsError",
    "AppError",
    "AppLoadError",
    "ClusterError",
    "ConfigAuthError",
    "ConfigCentreError",
    "ConfigNotFoundError",
    "ConfigTransientError",
    "ConflictError",
    "CycleError",
    "DanglingReferenceError",
    "DefinitionError",
    "DuplicateNameError",
    "GuardrailError",
    "ImmutableFieldError",
    "Location",
    "LockedError",
    "NotFoundError",
    "NotReadyError",
    "OwnershipError",
    "ParameterError",
    "PyvelaError",
    "RenderError",
    "StateError",
    "StepError",
    "StepTimeout",
    "TransientError",
    "UnknownDefinitionError",
    "UnknownKindError",
    "WorkflowError",
    "redact",
]

#: ``scheme://user:password@`` (the userinfo of a URL, password or not).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s@?#]*@")
#: An ``Authorization``-style header or field with its value (a server may echo them).
_AUTH_FIELD = re.compile(
    r"(?i)\b((?:proxy-)?authorization|x-api-key|access[-_]?token|api[-_]?key|token|password|secret)"
    r"(['\"]?\s*[:=]\s*['\"]?)"
    r"((?:basic|bearer|apollo|token)\s+)?[^\s'\",;}]+"
)
#: A bare credential scheme with its value ("Basic dXNlcjpwdw==").
_AUTH_SCHEME = re.compile(r"(?i)\b(basic|bearer)(\s+)[A-Za-z0-9._~+/=-]{6,}")


def redact(text: str) -> str:
    """``text`` without URL credentials or credential-like header values (replaced by ``***``)."""
    text = _URL_USERINFO.sub(r"\1***@", text)
    text = _AUTH_FIELD.sub(lambda m: m.group(1) + m.group(2) + (m.group(3) or "") + "***", text)
    return _AUTH_SCHEME.sub(r"\1\2***", text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


# A dataclass, not attrs: this module is imported by `pyvela --help`, which must stay light.
@dataclasses.dataclass(frozen=True)
class Location:
    """A place in a source file (an app module or a definition)."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


class PyvelaError(Exception):
    """Base of every error pyvela raises on purpose.

    Args:
        message: What went wrong, in one sentence.
        where: The source location the user must look at, when known.
        expected: What was expected (a type, a value, a state).
        got: What was found instead.
        fix: What the user can do about it.
        **context: Structured context (``component=``, ``step=``, ``parameter=``,
            ``definition=``, ``object=``...); each is also an attribute-like entry in
            :attr:`context` and is printed in the message.
    """

    transient: bool = False
    #: Set by a client that already retried this failure under its deadline: not retried again.
    retried: bool = False

    def __init__(
        self,
        message: str,
        *,
        where: Location | None = None,
        expected: str | None = None,
        got: str | None = None,
        fix: str | None = None,
        **context: Any,
    ) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.where = where
        self.expected = _redacted(expected)
        self.got = _redacted(got)
        self.fix = _redacted(fix)
        self.context: dict[str, Any] = {k: _redacted(v) for k, v in context.items() if v is not None}

    def with_context(self, **context: Any) -> PyvelaError:
        """Add context that was only known higher up the stack (returns self)."""
        for key, value in context.items():
            if value is not None:
                self.context.setdefault(key, _redacted(value))
        return self

    def __str__(self) -> str:
        head = ""
        if self.where is not None:
            head += f"{self.where}: "
        labels = _context_labels(self.context)
        if labels:
            head += labels + ": "
        lines = [head + self.message]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.got is not None:
            lines.append(f"  got:      {self.got}")
        if self.fix is not None:
            lines.append(f"  fix:      {self.fix}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form, for ``--output json``."""
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.where is not None:
            out["where"] = str(self.where)
        for key in ("expected", "got", "fix"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        out.update({k: str(v) for k, v in self.context.items()})
        return out


_CONTEXT_ORDER = ("app", "cluster", "component", "trait", "step", "parameter", "definition", "object")


def _context_labels(context: Mapping[str, Any]) -> str:
    parts = [f"{key} {context[key]!r}" for key in _CONTEXT_ORDER if key in context]
    return ", ".join(parts)


class DefinitionError(PyvelaError):
    """A definition (component, trait, step, policy) is malformed."""


class AppError(PyvelaError):
    """An application module cannot be used as written."""


class AppLoadError(AppError):
    """The app file is missing, failed to import, or defines no ``app``."""


class ParameterError(AppError):
    """A parameter is missing, unknown, or of the wrong type."""


class UnknownDefinitionError(AppError):
    """The app uses a definition that is not in the catalogue."""


class DuplicateNameError(AppError):
    """Two components, traits outputs or steps share a name."""


class DanglingReferenceError(AppError):
    """A reference names a component or step that does not exist."""


class CycleError(AppError):
    """Dependencies form a cycle; ``context['cycle']`` holds the path."""


class GuardrailError(AppError):
    """Rendered objects fail guardrail checks with an error: nothing is applied.

    ``findings`` holds each error finding as a dict (``check``, ``message``, ``component``,
    ``object``, ``where``, ``fix``, ``text``): the message lists the first ``SHOWN``, ``-o json`` all.
    """

    SHOWN = 50

    def __init__(self, message: str, *, findings: list[dict[str, Any]] | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.findings = [{k: _redacted(v) for k, v in f.items()} for f in findings or []]

    def __str__(self) -> str:
        head = f"{self.where}: " if self.where is not None else ""
        lines = [head + self.message]
        for finding in self.findings[: self.SHOWN]:
            lines += ["  " + line for line in str(finding.get("text") or finding.get("message")).splitlines()]
        if len(self.findings) > self.SHOWN:  # a thousand components with one mistake: the rest in -o json
            lines.append(f"  … and {len(self.findings) - self.SHOWN} more (`pyvela check` lists them all)")
        if self.fix is not None:
            lines.append(f"  fix:      {self.fix}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["findings"] = [{k: v for k, v in f.items() if k != "text"} for f in self.findings]
        return out


class RenderError(PyvelaError):
    """A definition raised while rendering."""


class WorkflowError(PyvelaError):
    """The workflow did not succeed."""


class StepError(WorkflowError):
    """A step raised, failed, or yielded something that is not an action."""


class StepTimeout(WorkflowError):
    """A step ran past its timeout."""


class NotReadyError(WorkflowError):
    """An object failed its readiness rule in a way that will not heal by waiting."""


class LockedError(WorkflowError):
    """Another run of the same app holds the lock."""


class StateError(PyvelaError):
    """The state record is corrupt, or belongs to another app or tool."""


class ClusterError(PyvelaError):
    """The cluster refused or failed a request."""


class NotFoundError(ClusterError):
    """The object does not exist."""


class AlreadyExistsError(ClusterError):
    """The object already exists (on create)."""


class ConflictError(ClusterError):
    """A resourceVersion precondition failed, or another field manager owns the fields."""


class OwnershipError(ClusterError):
    """An object in the way belongs to someone else."""


class ImmutableFieldError(ClusterError):
    """An update changes a field the API server does not let change (``field is immutable``)."""


class UnknownKindError(ClusterError):
    """The cluster does not serve the kind (its CRD is not installed)."""


class TransientError(ClusterError):
    """A temporary failure worth retrying."""

    transient = True


class ConfigCentreError(PyvelaError):
    """The configuration centre (Apollo, or the sandbox's own) failed."""


class ConfigAuthError(ConfigCentreError):
    """The token or the access-key signature was rejected."""


class ConfigNotFoundError(ConfigCentreError):
    """The app, cluster, namespace, item or release does not exist."""


class ConfigTransientError(ConfigCentreError):
    """429, 5xx or a connection error: retried with backoff."""

    transient = True
