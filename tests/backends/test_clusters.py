"""ClusterSet: which clusters exist, KubeVela's topology selection, backends opened lazily and
once, and errors that name the cluster and never its credentials."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pyvela._backends.clusters import LOCAL, ClusterInfo, ClusterSet
from pyvela._backends.sandbox import Sandbox
from pyvela._core.objects import ObjectRef
from pyvela.errors import ClusterError, PyvelaError

TOKEN = "tok-9f8e7d6c5b4a39281706"
NS = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}
NS_REF = ObjectRef("v1", "Namespace", "", "team-a")


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kubeconfig(path: Path, *contexts: str, current: str | None = None) -> Path:
    """A kubeconfig whose contexts all point at a closed loopback port, with a bearer token."""
    server = f"https://127.0.0.1:{closed_port()}"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": c, "cluster": {"server": server}} for c in contexts],
                "users": [{"name": "admin", "user": {"token": TOKEN}}],
                "contexts": [{"name": c, "context": {"cluster": c, "user": "admin"}} for c in contexts],
                "current-context": current or contexts[0],
            }
        )
    )
    return path


def cluster_file(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def three(tmp_path: Path) -> Iterator[ClusterSet]:
    file = cluster_file(
        tmp_path / "clusters.yaml",
        "clusters:\n"
        "  local:\n    labels: {region: north}\n"
        "  sandbox:eu:\n    labels: {region: eu, tier: edge}\n"
        "  sandbox:us:\n    labels: {region: us, tier: edge}\n"
        "  sandbox:lab: {}\n",
    )
    clusters = ClusterSet.discover(sandbox=tmp_path / "root", cluster_file=file)
    yield clusters
    clusters.close()


def test_names_labels_and_where_they_come_from(three: ClusterSet, tmp_path: Path) -> None:
    assert three.control == LOCAL
    assert three.names() == ("local", "sandbox:eu", "sandbox:lab", "sandbox:us")
    eu = three.info("sandbox:eu")
    assert eu == ClusterInfo(
        name="sandbox:eu",
        kind="sandbox",
        labels={"region": "eu", "tier": "edge"},
        sandbox=str(tmp_path / "root" / "clusters" / "eu"),
        declared=f"{tmp_path / 'clusters.yaml'}:4",
    )
    assert three.info(LOCAL).sandbox == str(tmp_path / "root") and three.info(LOCAL).labels == {
        "region": "north"
    }
    with pytest.raises(TypeError):
        eu.labels["region"] = "x"  # type: ignore[index]


def test_select_follows_kubevela_topology(three: ClusterSet) -> None:
    assert three.select() == (LOCAL,)
    assert three.select(names=["sandbox:us", "local", "sandbox:us"]) == ("sandbox:us", LOCAL)
    assert three.select(labels={"tier": "edge"}) == ("sandbox:eu", "sandbox:us")
    assert three.select(labels={}) == three.names()
    # names win over a label selector, as in KubeVela
    assert three.select(names=["sandbox:lab"], labels={"tier": "edge"}) == ("sandbox:lab",)
    assert three.select(labels={"region": "mars"}, allow_empty=True) == ()
    assert three.select(names=[], allow_empty=True) == ()


def test_unknown_names_and_empty_selections_are_errors_that_say_what_exists(three: ClusterSet) -> None:
    with pytest.raises(ClusterError) as unknown:
        three.select(names=["local", "sandbox:asia"])
    assert unknown.value.context["cluster"] == "sandbox:asia"
    assert unknown.value.expected == "one of local, sandbox:eu, sandbox:lab, sandbox:us"
    assert "clusters.yaml" in str(unknown.value.fix)
    with pytest.raises(ClusterError, match="unknown cluster 'prod'"):
        three.backend("prod")
    with pytest.raises(ClusterError) as empty:
        three.select(labels={"region": "mars"})
    assert "no cluster has the labels region=mars" in empty.value.message
    assert "sandbox:eu: region=eu, tier=edge" in str(empty.value.got)
    assert "allowEmpty" in str(empty.value.fix)
    with pytest.raises(ClusterError, match="the cluster list is empty"):
        three.select(names=[])
    with pytest.raises(ClusterError, match="must be a list"):
        three.select(names="sandbox:eu")


def test_backends_open_on_first_use_once_and_are_separate_clusters(three: ClusterSet, tmp_path: Path) -> None:
    assert three.opened() == ()
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(three.backend("sandbox:eu"))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(b) for b in got}) == 1 and three.opened() == ("sandbox:eu",)
    eu = three.backend("sandbox:eu")
    eu.apply(NS)
    assert (tmp_path / "root" / "clusters" / "eu" / "sandbox.db").is_file()
    assert three.backend(LOCAL).get(NS_REF) is None and eu.get(NS_REF) is not None
    assert three.backend("sandbox:us").get(NS_REF) is None
    assert three.opened() == ("local", "sandbox:eu", "sandbox:us")


def test_a_sandbox_on_disk_stays_a_cluster_after_the_file_drops_it(three: ClusterSet, tmp_path: Path) -> None:
    three.backend("sandbox:eu").apply(NS)
    three.close()
    again = ClusterSet.discover(sandbox=tmp_path / "root")
    try:
        assert again.names() == ("local", "sandbox:eu")
        assert again.info("sandbox:eu").declared == "on disk" and again.info("sandbox:eu").labels == {}
        assert again.backend("sandbox:eu").get(NS_REF) is not None
    finally:
        again.close()


def test_read_only_sets_open_existing_sandboxes_read_only(three: ClusterSet, tmp_path: Path) -> None:
    three.backend("sandbox:eu").apply(NS)
    three.close()
    reader = ClusterSet.discover(sandbox=tmp_path / "root", read_only=True)
    try:
        assert reader.backend("sandbox:eu").read_only  # type: ignore[attr-defined]
        with pytest.raises(PyvelaError) as refused:
            reader.backend("sandbox:eu").apply({**NS, "metadata": {"name": "team-b"}})
        assert refused.value.context["cluster"] == "sandbox:eu"
    finally:
        reader.close()


def test_a_sandbox_that_cannot_be_opened_names_the_cluster(tmp_path: Path) -> None:
    file = cluster_file(tmp_path / "c.yaml", "clusters:\n  sandbox:eu: {}\n")
    (tmp_path / "root" / "clusters").mkdir(parents=True)
    (tmp_path / "root" / "clusters" / "eu").write_text("a file where the sandbox's directory goes")
    clusters = ClusterSet.discover(sandbox=tmp_path / "root", cluster_file=file)
    with pytest.raises(PyvelaError) as caught:
        clusters.backend("sandbox:eu")
    assert caught.value.context["cluster"] == "sandbox:eu"
    assert str(caught.value).startswith("cluster 'sandbox:eu': ")
    assert clusters.opened() == ()
    clusters.close()


def test_kube_contexts_are_clusters_and_the_control_context_is_local(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "hub", "beijing", "arn:aws:eks:sh", "local", current="hub")
    file = cluster_file(
        tmp_path / "c.yaml",
        "clusters:\n"
        "  beijing:\n    labels: {region: north}\n"
        "  shanghai:\n    context: 'arn:aws:eks:sh'\n    labels: {region: east}\n"
        "  home:\n    context: hub\n    labels: {role: hub}\n",
    )
    clusters = ClusterSet.discover(kubeconfig=str(config), sandbox=tmp_path / "root", cluster_file=file)
    # the kubeconfig's own `local` context is shadowed by the control target; a context the
    # file names is one cluster under the file's name (its own name is an alias)
    assert clusters.names() == ("local", "beijing", "shanghai")
    local = clusters.info(LOCAL)
    assert (local.kind, local.context, local.declared) == ("kube", "hub", "--kubeconfig")
    assert local.labels == {"role": "hub"}
    assert clusters.resolve("hub") == clusters.resolve("home") == LOCAL
    assert clusters.select(names=["hub", "home", "local"]) == (LOCAL,)
    assert clusters.resolve("arn:aws:eks:sh") == "shanghai"
    assert clusters.info("shanghai").context == "arn:aws:eks:sh"
    assert clusters.select(names=["shanghai", "arn:aws:eks:sh"]) == ("shanghai",)
    assert clusters.select(labels={"region": "east"}) == ("shanghai",)
    assert clusters.info("beijing").declared == f"{file}:2"
    assert "kubeconfig" in clusters.info("beijing").location and TOKEN not in repr(clusters.info("beijing"))


def test_two_entries_for_one_context_are_refused(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "hub", "beijing")
    file = cluster_file(tmp_path / "c.yaml", "clusters:\n  beijing: {}\n  peking:\n    context: beijing\n")
    with pytest.raises(ClusterError) as caught:
        ClusterSet.discover(kubeconfig=str(config), cluster_file=file)
    assert "clusters 'beijing' and 'peking' are the same context 'beijing'" in caught.value.message
    assert caught.value.got == f"{file}:2 and {file}:3"


def test_without_a_kube_target_no_context_is_a_cluster_unless_the_file_names_it(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "prod", "staging")
    file = cluster_file(tmp_path / "c.yaml", f"clusters:\n  staging:\n    kubeconfig: {config}\n")
    clusters = ClusterSet.discover(sandbox=tmp_path / "root", cluster_file=file)
    assert clusters.names() == ("local", "staging") and clusters.info(LOCAL).kind == "sandbox"
    clusters.close()


def test_an_unreachable_cluster_is_named_without_its_credentials(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "hub", "edge")
    clusters = ClusterSet.discover(kubeconfig=str(config), context="hub")
    try:
        reach = clusters.probe_all(timeout=2.0)
        assert [(r.name, r.ok) for r in reach] == [("local", False), ("edge", False)]
        assert "cannot reach the API server" in reach[1].message and TOKEN not in reach[1].message
        edge = clusters.backend("edge")
        edge.inner.retry_budget = 0.3  # type: ignore[attr-defined]
        with pytest.raises(ClusterError) as caught:
            edge.get(NS_REF)
        error = caught.value
        assert error.context["cluster"] == "edge" and str(error).startswith("cluster 'edge'")
        assert TOKEN not in str(error) and TOKEN not in repr(error.to_dict())
    finally:
        clusters.close()


def test_a_context_that_is_not_in_the_kubeconfig_names_the_cluster(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "kubeconfig", "hub")
    file = cluster_file(
        tmp_path / "c.yaml", "clusters:\n  far:\n    context: nowhere\n  gone:\n    kubeconfig: /no/file\n"
    )
    clusters = ClusterSet.discover(kubeconfig=str(config), cluster_file=file)
    for name, words in (("far", "nowhere"), ("gone", "/no/file")):
        with pytest.raises(ClusterError) as caught:
            clusters.backend(name)
        assert caught.value.context["cluster"] == name and words in str(caught.value)
        assert TOKEN not in str(caught.value)
    clusters.close()


def test_close_closes_what_it_opened_and_not_what_it_was_given(tmp_path: Path) -> None:
    given, other = Sandbox(tmp_path / "given"), Sandbox(tmp_path / "b")
    clusters = ClusterSet.of({"local": given, "sandbox:b": other}, labels={"sandbox:b": {"x": "1"}})
    assert clusters.info("sandbox:b").labels == {"x": "1"} and clusters.info(LOCAL).kind == "sandbox"
    assert clusters.backend(LOCAL).inner is given  # type: ignore[attr-defined]
    clusters.close()
    assert given.get(ObjectRef("v1", "Namespace", "", "default")) is not None  # still open
    with pytest.raises(ClusterError, match="closed"):
        clusters.backend(LOCAL)
    given.close()
    other.close()


def test_a_named_sandbox_is_not_reset_while_a_run_of_its_control_sandbox_holds_a_lease(
    three: ClusterSet, tmp_path: Path
) -> None:
    from pyvela._workflow.state import AppLock
    from pyvela.errors import LockedError

    eu = three.backend("sandbox:eu")
    eu.apply(NS)
    lock = AppLock(three.backend(LOCAL), "shop", "default")  # the run's lock lives on local
    lock.acquire()
    try:
        with pytest.raises(LockedError, match="refusing to reset") as refused:
            eu.reset()  # type: ignore[attr-defined]
        assert "default/shop" in str(refused.value) and "in the control sandbox" in str(refused.value)
        assert eu.get(NS_REF) is not None
        eu.reset(force=True)  # type: ignore[attr-defined]
    finally:
        lock.release()
    eu.apply(NS)
    eu.reset()  # type: ignore[attr-defined]
    assert eu.get(NS_REF) is None


_label_maps = st.dictionaries(
    st.sampled_from(["region", "tier", "env"]), st.sampled_from(["a", "b"]), max_size=3
)


@settings(max_examples=200, deadline=None)
@given(
    labels=st.lists(_label_maps, min_size=1, max_size=6),
    selector=_label_maps,
    names=st.lists(st.integers(min_value=0, max_value=5), max_size=8),
)
def test_selection_invariants(
    labels: list[dict[str, str]], selector: dict[str, str], names: list[int]
) -> None:
    infos = [ClusterInfo(name=LOCAL, kind="sandbox", sandbox="/x", labels=labels[0])]
    infos += [
        ClusterInfo(name=f"sandbox:s{i}", kind="sandbox", sandbox=f"/x/{i}", labels=m)
        for i, m in enumerate(labels[1:], 1)
    ]
    clusters = ClusterSet(infos)
    chosen = clusters.select(labels=selector, allow_empty=True)
    # exactly the clusters holding every selected label, in names() order
    assert chosen == tuple(
        n for n in clusters.names() if all(clusters.info(n).labels.get(k) == v for k, v in selector.items())
    )
    known = [info.name for info in infos]
    wanted = [known[i] for i in names if i < len(known)]
    by_name = clusters.select(names=wanted, allow_empty=True)
    # each named cluster once, in the order first named; names win over labels
    assert by_name == tuple(dict.fromkeys(wanted))
    assert clusters.select(names=wanted, labels=selector, allow_empty=True) == by_name
