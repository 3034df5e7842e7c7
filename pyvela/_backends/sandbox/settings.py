"""Sandbox settings (``<root>/sandbox.yaml`` and the environment) and per-object simulation knobs.

``<root>/sandbox.yaml`` (every key optional)::

    ready_delay: 1.0            # seconds for a workload to become fully ready
    fail_images:                # glob patterns of images that never pull
      - "*does-not-exist*"
    nodes: 1                    # fake nodes (a DaemonSet wants one pod per node)
    honour_pauses: false        # a Rollout update pauses at a canary `pause: {}` step

``PYVELA_SANDBOX_DELAY`` (seconds) overrides ``ready_delay``.

Per-object annotations override the settings for that object:

- ``sandbox.pyvela.dev/ready-after: "2.5"``: seconds until it is ready;
- ``sandbox.pyvela.dev/fail: ImagePullBackOff | JobFailed | Degraded | Failed``: it never
  becomes ready. ``ImagePullBackOff`` keeps its pods unready (a Deployment then fails on
  ``spec.progressDeadlineSeconds``, a Rollout goes Degraded on it); the others make a Job
  fail (BackoffLimitExceeded), a Rollout go Degraded, a HelmRelease go ``failed`` and a Pod
  fail, after the ready delay.
"""

from __future__ import annotations

import difflib
import fnmatch
import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs
import yaml

from pyvela.errors import ClusterError, Location

ANNOTATION_READY_AFTER = "sandbox.pyvela.dev/ready-after"
ANNOTATION_FAIL = "sandbox.pyvela.dev/fail"
FAIL_MODES = ("ImagePullBackOff", "JobFailed", "Degraded", "Failed")
ENV_DELAY = "PYVELA_SANDBOX_DELAY"
SETTINGS_FILE = "sandbox.yaml"


def _delay(value: Any, where: str) -> float:
    try:
        delay = float(value)
    except (TypeError, ValueError):
        delay = math.nan
    if not math.isfinite(delay) or delay < 0 or isinstance(value, bool):
        raise ClusterError(
            f"{where} must be a number of seconds >= 0", expected="a number such as 2.5", got=repr(value)
        )
    return delay


def _parse_error(path: Path, exc: yaml.YAMLError) -> ClusterError:
    """The YAML error at its file:line (PyYAML counts lines from 0), without PyYAML's echo of the text."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    what = f"{context}, {problem}" if context else str(problem)
    return ClusterError(
        f"the sandbox settings are not valid YAML: {what}",
        where=Location(str(path), line),
        file=str(path),
        fix="correct the YAML (keys: ready_delay, fail_images, nodes, honour_pauses)",
    )


@attrs.frozen(kw_only=True)
class SandboxSettings:
    """How the sandbox's simulated controllers behave.

    Attributes:
        ready_delay: Seconds a workload takes to become fully ready (replicas become
            ready one at a time over it).
        fail_images: Glob patterns of images that never pull.
        nodes: Number of fake nodes (the pods a DaemonSet wants).
        honour_pauses: A Rollout update stops at an indefinite canary ``pause: {}`` step
            (phase Paused, message CanaryPauseStep) instead of going straight to Healthy.
    """

    ready_delay: float = 1.0
    fail_images: tuple[str, ...] = ("*does-not-exist*",)
    nodes: int = 1
    honour_pauses: bool = False

    @classmethod
    def load(cls, root: Path, environ: Mapping[str, str] | None = None) -> SandboxSettings:
        """Settings from ``<root>/sandbox.yaml`` (if present), then the environment."""
        env = os.environ if environ is None else environ
        path = root / SETTINGS_FILE
        kwargs = _from_file(path) if path.is_file() else {}
        if env.get(ENV_DELAY):
            kwargs["ready_delay"] = _delay(env[ENV_DELAY], ENV_DELAY)
        return cls(**kwargs)


_KEYS = ("ready_delay", "fail_images", "nodes", "honour_pauses")


def _read(path: Path) -> tuple[Any, dict[Any, int]]:
    """The file's data, and the line of each top-level key (for errors that name it)."""
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise _parse_error(path, exc) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ClusterError(f"cannot read the sandbox settings {path}: {exc}", file=str(path)) from exc
    lines: dict[Any, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                plain = key_node.tag == "tag:yaml.org,2002:str"
                key = key_node.value if plain else yaml.safe_load(key_node.value)
                lines.setdefault(key, key_node.start_mark.line + 1)
    return loaded, lines


def _from_file(path: Path) -> dict[str, Any]:
    loaded, lines = _read(path)

    def bad(key: Any, message: str, expected: str, fix: str) -> ClusterError:
        got = repr(loaded.get(key)) if isinstance(loaded, dict) and key is not None else repr(loaded)
        where = Location(str(path), lines.get(key, 1))
        return ClusterError(message, where=where, file=str(path), expected=expected, got=got, fix=fix)

    if loaded is not None and not isinstance(loaded, dict):
        raise bad(
            None,
            "the sandbox settings must be a mapping",
            "keys " + ", ".join(_KEYS),
            "write `key: value` lines, e.g. `ready_delay: 1.0`",
        )
    data = dict(loaded or {})
    for key in sorted(set(data) - set(_KEYS), key=str):
        close = difflib.get_close_matches(str(key), _KEYS, n=1)
        fix = f"did you mean {close[0]}?" if close else f"remove it; the keys are {', '.join(_KEYS)}"
        raise bad(key, f"unknown sandbox setting {key!r}", "one of " + ", ".join(_KEYS), fix)
    kwargs: dict[str, Any] = {}
    if "ready_delay" in data:
        try:
            kwargs["ready_delay"] = _delay(data["ready_delay"], "ready_delay")
        except ClusterError:
            raise bad(
                "ready_delay",
                "ready_delay must be a number of seconds >= 0",
                "a number such as 2.5",
                "write e.g. `ready_delay: 2.5`",
            ) from None
    if "fail_images" in data:
        images = data["fail_images"]
        if not isinstance(images, list) or not all(isinstance(i, str) for i in images):
            example = repr(images) if isinstance(images, str) else "'*does-not-exist*'"
            raise bad(
                "fail_images",
                "fail_images must be a list of image globs",
                "a list of strings",
                f"write it as a list: `fail_images: [{example}]`",
            )
        kwargs["fail_images"] = tuple(images)
    if "nodes" in data:
        nodes = data["nodes"]
        if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes < 0:
            raise bad(
                "nodes", "nodes must be an integer >= 0", "a whole number such as 1", "write e.g. `nodes: 3`"
            )
        kwargs["nodes"] = nodes
    if "honour_pauses" in data:
        if not isinstance(data["honour_pauses"], bool):
            raise bad(
                "honour_pauses",
                "honour_pauses must be a boolean",
                "true or false",
                "write `honour_pauses: true` or `honour_pauses: false`",
            )
        kwargs["honour_pauses"] = data["honour_pauses"]
    return kwargs


@attrs.frozen(kw_only=True)
class Sim:
    """The simulation parameters of one object, fixed when it is written (stored with it)."""

    delay: float
    fail: str | None = None
    nodes: int = 1
    honour_pauses: bool = False

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Sim:
        if not isinstance(data, dict):
            return cls(delay=0.0)
        fail = data.get("fail")
        return cls(
            delay=float(data.get("delay", 0.0)),
            fail=fail if isinstance(fail, str) else None,
            nodes=int(data.get("nodes", 1)),
            honour_pauses=bool(data.get("honour_pauses", False)),
        )


@functools.lru_cache(maxsize=1024)
def _never_pulls(image: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``image`` matches a failing glob (asked for every object: an app has few images)."""
    return any(fnmatch.fnmatchcase(image, pattern) for pattern in patterns)


def _images(obj: Mapping[str, Any]) -> list[str]:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return []
    pod_specs = [spec]
    for path in (("template",), ("jobTemplate", "spec", "template")):
        cur: Any = spec
        for key in path:
            cur = cur.get(key) if isinstance(cur, dict) else None
        if isinstance(cur, dict) and isinstance(cur.get("spec"), dict):
            pod_specs.append(cur["spec"])
    images = []
    for pod_spec in pod_specs:
        for field in ("initContainers", "containers"):
            containers = pod_spec.get(field)
            for container in containers if isinstance(containers, list) else []:
                if isinstance(container, dict) and isinstance(container.get("image"), str):
                    images.append(container["image"])
    return images


def sim_for(obj: Mapping[str, Any], settings: SandboxSettings) -> Sim:
    """The simulation parameters of ``obj`` (annotations override settings); ClusterError on bad ones."""
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    annotations = annotations if isinstance(annotations, dict) else {}
    delay = settings.ready_delay
    if ANNOTATION_READY_AFTER in annotations:
        delay = _delay(annotations[ANNOTATION_READY_AFTER], f"annotation {ANNOTATION_READY_AFTER}")
    fail = annotations.get(ANNOTATION_FAIL)
    if fail is not None and fail not in FAIL_MODES:
        raise ClusterError(
            f"annotation {ANNOTATION_FAIL} names no failure the sandbox simulates",
            expected=" | ".join(FAIL_MODES),
            got=repr(fail),
        )
    if fail is None and any(_never_pulls(image, settings.fail_images) for image in _images(obj)):
        fail = "ImagePullBackOff"
    return Sim(delay=delay, fail=fail, nodes=settings.nodes, honour_pauses=settings.honour_pauses)
