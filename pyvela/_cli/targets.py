"""Checks of the CLI's target arguments before any client is built.

The Kubernetes client reports a missing or malformed kubeconfig as a Python exception
(a YAML traceback, ``'str' object does not support item assignment``) or as "No
configuration found" without saying where it looked; these checks name the file, the line
and the paths searched. They never print the file's content: it holds credentials.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from pyvela.errors import ClusterError


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {value}")
    return value


def non_negative_seconds(text: str) -> float:
    """argparse type: a finite number of seconds >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds >= 0, got {text}")
    return value


def kubeconfig_paths(kubeconfig: str | None) -> list[Path]:
    """The files the Kubernetes client reads: ``--kubeconfig``, else $KUBECONFIG, else ~/.kube/config."""
    if kubeconfig:
        return [Path(kubeconfig)]
    env = os.environ.get("KUBECONFIG", "")
    paths = [Path(p) for p in env.split(os.pathsep) if p]
    return paths or [Path.home() / ".kube" / "config"]


def check_kube_target(*, context: str | None, kubeconfig: str | None, in_cluster: bool) -> None:
    """Raise ClusterError for a kubeconfig that is missing, not YAML, not a mapping, or lacks ``context``."""
    if in_cluster:
        return
    paths = kubeconfig_paths(kubeconfig)
    if kubeconfig and not paths[0].is_file():
        raise ClusterError(
            f"the kubeconfig {kubeconfig} " + ("is a directory" if paths[0].is_dir() else "does not exist"),
            context=context,
            expected="a kubeconfig file",
            fix="check the --kubeconfig path (kubectl config view --kubeconfig FILE)",
        )
    existing = [p for p in paths if p.is_file()]
    if not existing:
        raise ClusterError(
            f"no kubeconfig to find context {context!r} in" if context else "no kubeconfig found",
            expected="a kubeconfig file",
            got="searched: " + ", ".join(str(p) for p in paths),
            fix="pass --kubeconfig FILE, set KUBECONFIG, or drop --context to use the sandbox",
        )
    contexts: list[str] = []
    for path in existing:
        data = _read(path)
        contexts += [
            str(c.get("name")) for c in data.get("contexts") or [] if isinstance(c, dict) and c.get("name")
        ]
    if context and context not in contexts:
        raise ClusterError(
            f"the kubeconfig has no context {context!r}",
            expected="one of " + (", ".join(sorted(set(contexts))) or "(no contexts)"),
            got=f"{context!r} (searched: {', '.join(str(p) for p in existing)})",
            fix="pick a context from `kubectl config get-contexts`",
        )


def _read(path: Path) -> dict[str, Any]:
    import yaml  # here, not at the top: main imports this module and must stay cheap

    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except OSError as exc:
        raise ClusterError(f"the kubeconfig {path} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ClusterError(f"the kubeconfig {path} is not UTF-8 text", expected="a YAML file") from None
    except yaml.YAMLError as exc:
        # Only the position and the parser's problem: the snippet it quotes may be a credential.
        mark = getattr(exc, "problem_mark", None)
        at = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ClusterError(
            f"the kubeconfig {at} is not valid YAML: {problem}",
            expected="a kubeconfig (apiVersion, clusters, contexts, users)",
            fix="fix the file (kubectl config view shows what kubectl makes of it)",
        ) from None
    if not isinstance(data, dict):
        raise ClusterError(
            f"the kubeconfig {path} does not hold a mapping",
            expected="a kubeconfig (apiVersion, clusters, contexts, users)",
            got=type(data).__name__,
            fix="point --kubeconfig / KUBECONFIG at a kubeconfig file",
        )
    return data


def context_namespace(*, context: str | None, kubeconfig: str | None) -> str | None:
    """The namespace the kubeconfig's context (``context``, else its current one) names, as
    kubectl uses it when no ``-n`` is given; None when it names none."""
    chosen = context
    for path in (p for p in kubeconfig_paths(kubeconfig) if p.is_file()):
        data = _read(path)
        chosen = chosen or (str(data.get("current-context") or "") or None)
        for c in data.get("contexts") or []:
            if isinstance(c, dict) and c.get("name") == chosen:
                namespace = (c.get("context") or {}).get("namespace")
                return str(namespace) if namespace else None
    return None
