"""Small graph algorithms: cycle finding with the path, and a stable topological order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle as a path ``[a, b, ..., a]`` following ``node -> dependency`` edges, or None.

    Dependencies that are not nodes are ignored (dangling references are reported
    elsewhere, with better context).
    """
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(edges, white)
    for root in edges:
        if colour[root] != white:
            continue
        # Iterative DFS: deep dependency chains must not hit the recursion limit.
        path: list[str] = [root]
        iters = [iter(edges[root])]
        colour[root] = grey
        while iters:
            dep = next(iters[-1], None)
            if dep is None:
                colour[path.pop()] = black
                iters.pop()
                continue
            if dep not in colour:
                continue
            if colour[dep] == grey:
                return [*path[path.index(dep) :], dep]
            if colour[dep] == white:
                colour[dep] = grey
                path.append(dep)
                iters.append(iter(edges[dep]))
    return None


def topo_order(edges: Mapping[str, Iterable[str]]) -> list[str]:
    """Nodes ordered so that every node comes after its dependencies.

    Ties keep the order of ``edges`` (so StepByStep workflows list as written). The graph
    must be acyclic (check with :func:`find_cycle` first).
    """
    deps = {n: {d for d in ds if d in edges} for n, ds in edges.items()}
    dependants: dict[str, list[str]] = {n: [] for n in edges}
    for node, ds in deps.items():
        for d in ds:
            dependants[d].append(node)
    position = {n: i for i, n in enumerate(edges)}
    remaining = {n: len(ds) for n, ds in deps.items()}
    import heapq

    ready = [(position[n], n) for n, count in remaining.items() if count == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        _, node = heapq.heappop(ready)
        out.append(node)
        for nxt in dependants[node]:
            remaining[nxt] -= 1
            if remaining[nxt] == 0:
                heapq.heappush(ready, (position[nxt], nxt))
    if len(out) != len(edges):
        raise ValueError("graph has a cycle")
    return out
