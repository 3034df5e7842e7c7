"""Which objects a resource policy (take-over, read-only, shared-resource) covers.

The selector is a policy's parameter class, so it lives with the definitions; the policies'
enforcement, which reads the cluster, is ``pyvela._workflow.policies``.
"""

from __future__ import annotations

import attrs

from pyvela._core.objects import ObjectRef


@attrs.frozen(kw_only=True)
class ResourceSelector:
    """Which objects a resource policy applies to.

    Attributes:
        kinds: Object kinds (``ConfigMap``); empty: any kind.
        names: Object names; empty: any name.
        components: Components whose objects it covers; empty: any (and objects applied by steps).
    """

    kinds: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    components: tuple[str, ...] = ()

    def matches(self, ref: ObjectRef, component: str | None) -> bool:
        return (
            (not self.kinds or ref.kind in self.kinds)
            and (not self.names or ref.name in self.names)
            and (not self.components or component in self.components)
        )
