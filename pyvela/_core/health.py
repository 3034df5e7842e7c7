"""Readiness: the verdict of a rule on one observation of an object, and the health rules a
component or trait definition may declare (KubeVela's ``healthPolicy`` and ``customStatus``).

The backends' per-kind rules (``pyvela._backends.readiness``) judge any object of a kind; a
definition's own rule judges its workload with what the definition knows (its parameters):
waits on the workload and ``status`` use it instead of the kind's rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs

from pyvela._core.objects import Obj


@attrs.frozen
class Readiness:
    """The verdict of a readiness rule on one observation of an object.

    Attributes:
        ready: The object is ready; a wait on it ends.
        message: Why it is (not) ready, for progress output ("1/2 replicas ready").
        failed: It will not become ready by waiting (ProgressDeadlineExceeded, Job Failed):
            a wait ends at once with :class:`~pyvela.errors.NotReadyError`.
    """

    ready: bool
    message: str = ""
    failed: bool = False


#: A readiness rule: sees the live object (None while it does not exist).
ReadinessRule = Callable[[Obj | None], Readiness]

#: A definition's health rule: the live workload (None while it does not exist) and the
#: component's parameters -> a verdict.
HealthRule = Callable[[Obj | None, Any], Readiness]


@attrs.frozen(kw_only=True)
class TraitObservation:
    """What a trait's health rule sees of one of the objects the trait added.

    Attributes:
        output: The trait's name for the object (``ingress``, ``service``).
        live: The live object (None while it does not exist).
        params: The trait's parameters.
        component: The component's name.
        app: The application's name.
    """

    output: str
    live: Obj | None
    params: Any
    component: str
    app: str


#: A trait definition's health rule for each object it added: a verdict, or None to leave
#: that object to its kind's rule (a gateway judges its Ingress, not its Service).
TraitHealthRule = Callable[[TraitObservation], Readiness | None]
