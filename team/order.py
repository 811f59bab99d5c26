"""Task dependency order: stable topological sort and cycle finding over `context`."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from scenarios.spec import TaskSpec


def known_context(tasks: Sequence[TaskSpec], task: TaskSpec) -> list[str]:
    """The task's dependencies that name other existing tasks (unknown and self dropped)."""
    names = {t.name for t in tasks}
    return [d for d in dict.fromkeys(task.context) if d in names and d != task.name]


def topological_order(tasks: Sequence[TaskSpec]) -> list[TaskSpec]:
    """Tasks in dependency order; ties keep file order (raises ValueError on a cycle)."""
    done: list[TaskSpec] = []
    left = list(tasks)
    while left:
        ready = next((t for t in left if _deps_done(tasks, t, done)), None)
        if ready is None:
            raise ValueError(f"dependency cycle among tasks: {', '.join(t.name for t in left)}")
        done.append(ready)
        left.remove(ready)
    return done


def _deps_done(tasks: Sequence[TaskSpec], task: TaskSpec, done: list[TaskSpec]) -> bool:
    names = {t.name for t in done}
    return all(d in names for d in known_context(tasks, task))


def find_cycles(tasks: Sequence[TaskSpec]) -> list[list[str]]:
    """One cycle per strongly connected group of tasks, each starting at its first task."""
    graph = {t.name: known_context(tasks, t) for t in tasks}
    cycles = []
    for group in _strong_components(graph):
        if len(group) > 1:
            start = min(group, key=list(graph).index)
            cycles.append(_cycle_through(graph, start, group))
    return sorted(cycles, key=lambda c: list(graph).index(c[0]))


def _strong_components(graph: dict[str, list[str]]) -> list[set[str]]:
    """Groups of nodes that reach each other (Kosaraju: two depth-first passes)."""
    finished: list[str] = []
    seen: set[str] = set()
    for node in graph:
        _visit(graph, node, seen, finished)
    reverse: dict[str, list[str]] = {n: [] for n in graph}
    for node, deps in graph.items():
        for dep in deps:
            reverse[dep].append(node)
    groups: list[set[str]] = []
    seen = set()
    for node in reversed(finished):
        if node not in seen:
            group: list[str] = []
            _visit(reverse, node, seen, group)
            groups.append(set(group))
    return groups


def _visit(graph: dict[str, list[str]], node: str, seen: set[str], out: list[str]) -> None:
    """Iterative depth-first search appending nodes to `out` in finishing order."""
    if node in seen:
        return
    seen.add(node)
    stack = [(node, iter(graph[node]))]
    while stack:
        current, deps = stack[-1]
        nxt = next((d for d in deps if d not in seen), None)
        if nxt is None:
            stack.pop()
            out.append(current)
        else:
            seen.add(nxt)
            stack.append((nxt, iter(graph[nxt])))


def _cycle_through(graph: dict[str, list[str]], start: str, group: set[str]) -> list[str]:
    """The shortest path from `start` back to itself inside `group` (breadth first)."""
    parent: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for dep in graph[node]:
            if dep == start:
                return _path_to(parent, node, start)
            if dep in group and dep not in parent:
                parent[dep] = node
                queue.append(dep)
    return [start]


def _path_to(parent: dict[str, str], node: str, start: str) -> list[str]:
    path = [node]
    while path[-1] != start:
        path.append(parent[path[-1]])
    return path[::-1]
