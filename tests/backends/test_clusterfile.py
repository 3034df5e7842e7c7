"""The cluster file: what it declares, and every mistake reported at its file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvela._backends.clusterfile import (
    ENV_CLUSTERS,
    cluster_file_path,
    kubeconfig_contexts,
    read_cluster_file,
)
from pyvela.errors import ClusterError

GOOD = """\
# the clusters of the shop
clusters:
  local:
    labels: {region: north}
  sandbox:eu:
    labels:
      region: eu
      example.com/tier: edge
  beijing:
  shanghai:
    context: arn:aws:eks:cn-east-1:1234:cluster/sh
    kubeconfig: ~/.kube/sh.yaml
    labels: {region: east, empty: ""}
"""


def test_a_good_file_declares_its_clusters_in_order(tmp_path: Path) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text(GOOD)
    entries = read_cluster_file(path)
    assert [(e.name, e.where.line) for e in entries] == [
        ("local", 3),
        ("sandbox:eu", 5),
        ("beijing", 9),
        ("shanghai", 10),
    ]
    eu, shanghai = entries[1], entries[3]
    assert dict(eu.labels) == {"region": "eu", "example.com/tier": "edge"}
    assert shanghai.context == "arn:aws:eks:cn-east-1:1234:cluster/sh"
    assert shanghai.kubeconfig == "~/.kube/sh.yaml" and dict(shanghai.labels) == {
        "region": "east",
        "empty": "",
    }
    assert entries[2].context is None and dict(entries[2].labels) == {}


def test_an_empty_file_or_list_declares_nothing(tmp_path: Path) -> None:
    for text in ("", "# nothing yet\n", "clusters:\n"):
        (tmp_path / "c.yaml").write_text(text)
        assert read_cluster_file(tmp_path / "c.yaml") == ()


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("clusters: [a, b]\n", 1, "`clusters` must be a mapping"),
        ("- a\n", 1, "the cluster file must be a mapping"),
        ("clusters:\n  a: {}\nlabels: {}\n", 3, "unknown key 'labels' in the cluster file"),
        ("clusters:\n  a:\n    lables: {x: y}\n", 3, "unknown key 'lables' for cluster 'a'"),
        ("clusters:\n  a: {}\n  b: {}\n  a: {}\n", 4, "cluster 'a' is declared twice (first at line 2)"),
        ("clusters:\n  sandbox:EU: {}\n", 2, "'EU' after `sandbox:` is not a DNS-1123 label"),
        ("clusters:\n  'sandbox:': {}\n", 2, "after `sandbox:` is not a DNS-1123 label"),
        ("clusters:\n  'my cluster': {}\n", 2, "has characters a name may not hold"),
        ("clusters:\n  12: {}\n", 2, "a cluster name must be a string"),
        (
            "clusters:\n  a:\n    labels: {'bad key!': x}\n",
            3,
            "label key 'bad key!' is not a Kubernetes label key",
        ),
        ("clusters:\n  a:\n    labels:\n      ok: '-x-'\n", 4, "label value '-x-' of 'ok'"),
        ("clusters:\n  a:\n    labels:\n      x: [1]\n", 4, "a label value must be a string"),
        ("clusters:\n  a:\n    labels: region\n", 3, "the labels of 'a' must be a mapping"),
        ("clusters:\n  sandbox:eu:\n    context: prod\n", 3, "cluster 'sandbox:eu' cannot take `context`"),
        ("clusters:\n  local:\n    kubeconfig: /k\n", 3, "it is the control target"),
        ("clusters:\n  a:\n    context: ''\n", 3, "`context` must not be empty"),
        ("clusters:\n  a: {labels: {x: y}\n", 3, "not valid YAML"),
    ],
)
def test_every_mistake_is_reported_at_its_line(tmp_path: Path, text: str, line: int, words: str) -> None:
    path = tmp_path / "clusters.yaml"
    path.write_text(text)
    with pytest.raises(ClusterError) as caught:
        read_cluster_file(path)
    assert caught.value.where is not None
    assert (caught.value.where.file, caught.value.where.line) == (str(path), line), str(caught.value)
    assert words in caught.value.message
    assert caught.value.fix


def test_where_the_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert cluster_file_path(None, environ={}) is None
    (tmp_path / "clusters.yaml").write_text("clusters:\n")
    assert cluster_file_path(None, environ={}) == Path("clusters.yaml")
    other = tmp_path / "other.yaml"
    other.write_text("clusters:\n")
    assert cluster_file_path(None, environ={ENV_CLUSTERS: str(other)}) == other
    assert cluster_file_path(str(other), environ={ENV_CLUSTERS: "/nowhere"}) == other
    with pytest.raises(ClusterError, match=f"from {ENV_CLUSTERS}.*does not exist"):
        cluster_file_path(None, environ={ENV_CLUSTERS: str(tmp_path / "missing.yaml")})
    with pytest.raises(ClusterError, match=r"from --clusters.*is a directory"):
        cluster_file_path(str(tmp_path), environ={})


def test_kubeconfig_contexts_are_merged_as_kubectl_merges_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.write_text("contexts: [{name: one}, {name: two}]\nusers: [{name: u, user: {token: s3cret}}]\n")
    b.write_text("contexts: [{name: two}, {name: three}]\ncurrent-context: three\n")
    monkeypatch.setenv("KUBECONFIG", f"{a}:{tmp_path / 'missing'}:{b}")
    assert kubeconfig_contexts(None) == (["one", "two", "three"], "three")
    assert kubeconfig_contexts(str(a)) == (["one", "two"], None)
    (tmp_path / "bad").write_text("contexts: [\n")
    assert kubeconfig_contexts(str(tmp_path / "bad")) == ([], None)
