"""Semantic checks of a scenario before it is compiled: references, cycles, reach.

Each check returns `Problem`s whose `loc` points into the YAML (the loader turns it into
`file:line: field: message`); every message says what is allowed or what to change.
Checks that depend on earlier ones (reachability needs valid references) run only when
the earlier ones passed, so one mistake gives one message.
"""

from __future__ import annotations

import prompts
import tools
from scenarios.spec import AgentSpec, Problem, Scenario, TaskSpec
from team.check_validation import check_problems
from team.order import find_cycles, known_context
from team.schemas import resolve_schema
from team.validate_text import known, text_problems

TEMPLATE_FIELDS = ("role", "goal", "backstory")


def validate(scenario: Scenario) -> list[Problem]:
    """Every semantic problem of `scenario`, in file order; empty when it can be compiled."""
    problems = _agent_problems(scenario) + _task_problems(scenario)
    problems += _team_problems(scenario) + check_problems(scenario)
    if not problems:
        problems += _reach_problems(scenario)
    return problems


# --- agents ---------------------------------------------------------------------------


def _agent_problems(scenario: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    for i, agent in enumerate(scenario.agents):
        problems += _model_problems(scenario, i, agent)
        problems += _prompt_problems(scenario, i, agent)
        problems += _tool_problems(i, agent)
    return problems


def _model_problems(scenario: Scenario, i: int, agent: AgentSpec) -> list[Problem]:
    if agent.model in scenario.models:
        return []
    message = f"unknown model profile {agent.model!r} (known: {known(scenario.models)})"
    return [Problem(("agents", i, "model"), message)]


def _prompt_problems(scenario: Scenario, i: int, agent: AgentSpec) -> list[Problem]:
    problems: list[Problem] = []
    for field in ("role", "goal", "backstory", "system_prompt"):
        text = getattr(agent, field)
        if text:
            problems += text_problems(scenario, ("agents", i, field), text)
    if agent.prompt is not None:
        problems += _template_problems(scenario, ("agents", i, "prompt"), agent.prompt)
    return problems


def _template_problems(scenario: Scenario, loc: tuple, name: str) -> list[Problem]:
    try:
        text = prompts.load(name)
    except KeyError as exc:
        return [Problem(loc, str(exc.args[0]))]
    extra = f"template {name!r} uses"
    return text_problems(scenario, loc, text, allowed=TEMPLATE_FIELDS, what=extra)


def _tool_problems(i: int, agent: AgentSpec) -> list[Problem]:
    registered = tools.names()
    return [
        Problem(("agents", i, "tools", j), f"unknown tool {tool!r} (known: {known(registered)})")
        for j, tool in enumerate(agent.tools)
        if tool not in registered
    ]


# --- tasks ----------------------------------------------------------------------------


def _task_problems(scenario: Scenario) -> list[Problem]:
    problems: list[Problem] = []
    agents = [a.name for a in scenario.agents]
    for i, task in enumerate(scenario.tasks):
        if task.agent not in agents:
            message = f"unknown agent {task.agent!r} (known: {known(agents)})"
            problems.append(Problem(("tasks", i, "agent"), message))
        problems += _context_problems(scenario, i, task)
        problems += _output_schema_problems(scenario, i, task)
        problems += text_problems(scenario, ("tasks", i, "description"), task.description)
        problems += text_problems(scenario, ("tasks", i, "expected_output"), task.expected_output)
    return problems + _cycle_problems(scenario)


def _context_problems(scenario: Scenario, i: int, task: TaskSpec) -> list[Problem]:
    names = [t.name for t in scenario.tasks]
    problems: list[Problem] = []
    for j, dep in enumerate(task.context):
        loc = ("tasks", i, "context", j)
        if dep == task.name:
            message = f"task {dep!r} depends on itself; remove {dep!r} from its context"
            problems.append(Problem(loc, message))
        elif dep not in names:
            problems.append(Problem(loc, f"unknown task {dep!r} (known: {known(names)})"))
    return problems


def _output_schema_problems(scenario: Scenario, i: int, task: TaskSpec) -> list[Problem]:
    if task.output_schema is None:
        return []
    loc = ("tasks", i, "output_schema")
    unsupported = _schema_unsupported(scenario, task)
    if unsupported:
        return [Problem(loc, unsupported)]
    try:
        resolve_schema(task.output_schema)
    except ValueError as exc:
        fix = "give a JSON schema with type: object, or module:ClassName of a pydantic model"
        return [Problem(loc, f"{exc}; {fix}")]
    return []


def _schema_unsupported(scenario: Scenario, task: TaskSpec) -> str | None:
    """Why the topology cannot give this task a structured answer, or None."""
    team = scenario.team
    if team.topology in ("round_robin", "supervisor"):
        return (
            f"a {team.topology} team's messages are free text, so output_schema would not be "
            "used: move it to a task of a sequential, parallel or reflection team, or remove it"
        )
    if team.topology == "reflection" and task.agent == team.critic:
        return (
            "the critic answers in free text (it approves with the termination phrase): "
            "put output_schema on the producer's task, or remove it"
        )
    return None


def _cycle_problems(scenario: Scenario) -> list[Problem]:
    names = [t.name for t in scenario.tasks]
    problems = []
    for cycle in find_cycles(scenario.tasks):
        path = " -> ".join([*cycle, cycle[0]])
        message = (
            f"dependency cycle: {path} (each task reads the next one's output); "
            "remove one of these context entries so the tasks can run in order"
        )
        problems.append(Problem(("tasks", names.index(cycle[0]), "context"), message))
    return problems


# --- team -----------------------------------------------------------------------------


def _team_problems(scenario: Scenario) -> list[Problem]:
    team = scenario.team
    if team.final_task is not None and team.final_task not in _task_names(scenario):
        message = f"unknown task {team.final_task!r} (known: {known(_task_names(scenario))})"
        return [Problem(("team", "final_task"), message)]
    if not scenario.tasks:
        return [Problem(("team", "topology"), _NO_TASKS[team.topology])]
    return _TOPOLOGY_CHECKS[team.topology](scenario)


_NO_TASKS = {
    "sequential": "a sequential team needs at least one task: add tasks:",
    "parallel": "a parallel team needs tasks (branches and a fan-in task): add tasks:",
    "supervisor": "a supervisor team needs at least one task describing the work: add tasks:",
    "round_robin": "a round_robin chat opens with the first task's description: add tasks:",
    "reflection": "a reflection team needs a task for its producer: add tasks:",
}


def _task_names(scenario: Scenario) -> list[str]:
    return [t.name for t in scenario.tasks]


def _agent_names(scenario: Scenario) -> list[str]:
    return [a.name for a in scenario.agents]


def _agent_ref(scenario: Scenario, loc: tuple, name: str | None, need: str) -> list[Problem]:
    """A team field that must name an agent: missing, or unknown."""
    agents = _agent_names(scenario)
    if name is None:
        return [Problem(loc, f"{need} (agents: {known(agents)})")]
    if name not in agents:
        return [Problem(loc, f"unknown agent {name!r} (known: {known(agents)})")]
    return []


def _sequential_checks(scenario: Scenario) -> list[Problem]:
    return []


def _supervisor_checks(scenario: Scenario) -> list[Problem]:
    name = scenario.team.supervisor
    need = "a supervisor team needs team.supervisor naming the routing agent"
    problems = _agent_ref(scenario, ("team", "supervisor"), name, need)
    if not problems and len(scenario.agents) < 2:
        message = f"supervisor {name!r} has no one to route to: add at least one other agent"
        problems.append(Problem(("agents",), message))
    return problems


def _round_robin_checks(scenario: Scenario) -> list[Problem]:
    agents = _agent_names(scenario)
    problems = [
        Problem(("team", "order", j), f"unknown agent {name!r} (known: {known(agents)})")
        for j, name in enumerate(scenario.team.order or [])
        if name not in agents
    ]
    if scenario.team.order == []:
        problems.append(Problem(("team", "order"), "team.order is empty: list the speakers"))
    first, *rest = scenario.tasks
    return problems + _unused_tasks(rest, first, _UNUSED_ROUND_ROBIN, _task_names(scenario))


_UNUSED_ROUND_ROBIN = (
    "a round_robin chat opens with the first task only, so task {task!r} would never be "
    "used: merge it into task {first!r}, or use topology sequential"
)
_UNUSED_REFLECTION = (
    "a reflection team runs one task each for its producer and critic, so task {task!r} "
    "would never run: merge it into task {first!r}, or use topology sequential"
)


def _unused_tasks(
    unused: list[TaskSpec], used: TaskSpec, template: str, names: list[str]
) -> list[Problem]:
    """Tasks the topology never runs, each told to merge into the task it does run."""
    return [
        Problem(
            ("tasks", names.index(t.name), "name"), template.format(task=t.name, first=used.name)
        )
        for t in unused
    ]


def _reflection_checks(scenario: Scenario) -> list[Problem]:
    team = scenario.team
    producer, critic = team.producer, team.critic
    problems = _agent_ref(
        scenario, ("team", "producer"), producer, "a reflection team needs team.producer"
    )
    need_critic = "a reflection team needs team.critic"
    problems += _agent_ref(scenario, ("team", "critic"), critic, need_critic)
    if problems:
        return problems
    if producer == critic:
        message = f"producer and critic are both {critic!r}: name two different agents"
        return [Problem(("team", "critic"), message)]
    return _producer_task_problems(scenario, producer or "", critic or "")


def _producer_task_problems(scenario: Scenario, producer: str, critic: str) -> list[Problem]:
    if not any(t.agent == producer for t in scenario.tasks):
        message = (
            f"producer {producer!r} has no task: add a task with agent: {producer} "
            "(the work it drafts)"
        )
        return [Problem(("team", "producer"), message)]
    problems = []
    for agent in (producer, critic):
        own = [t for t in scenario.tasks if t.agent == agent]
        if own:
            names = _task_names(scenario)
            problems += _unused_tasks(own[1:], own[0], _UNUSED_REFLECTION, names)
    return sorted(problems, key=lambda p: p.loc)


def _parallel_checks(scenario: Scenario) -> list[Problem]:
    final = fan_in_task(scenario)
    if final is None:
        return _no_fan_in(scenario)
    if len(scenario.tasks) < 2:
        message = (
            f"a parallel team needs branch tasks besides the fan-in task {final!r}: "
            "add tasks, or use topology sequential"
        )
        return [Problem(("tasks",), message)]
    if find_cycles(scenario.tasks):
        return []  # already reported as a cycle
    return _branch_dependency_problems(scenario, final)


def _no_fan_in(scenario: Scenario) -> list[Problem]:
    fed = [t.name for t in scenario.tasks if t.context]
    message = (
        "a parallel team needs one fan-in task: set team.final_task, or let exactly one "
        f"task list the others in its context (tasks with context: {known(fed)})"
    )
    return [Problem(("team", "final_task"), message)]


def _branch_dependency_problems(scenario: Scenario, final: str) -> list[Problem]:
    problems = []
    for i, task in enumerate(scenario.tasks):
        if task.name == final:
            continue
        for dep in known_context(scenario.tasks, task):
            message = (
                f"parallel branches run independently, but task {task.name!r} reads "
                f"{dep!r}: remove it from context, or use topology sequential"
            )
            problems.append(Problem(("tasks", i, "context", task.context.index(dep)), message))
    return problems


def fan_in_task(scenario: Scenario) -> str | None:
    """The parallel fan-in task: `team.final_task`, else the one task with a context."""
    if scenario.team.final_task is not None:
        return scenario.team.final_task
    fed = [t.name for t in scenario.tasks if t.context]
    return fed[0] if len(fed) == 1 else None


_TOPOLOGY_CHECKS = {
    "sequential": _sequential_checks,
    "supervisor": _supervisor_checks,
    "round_robin": _round_robin_checks,
    "parallel": _parallel_checks,
    "reflection": _reflection_checks,
}


# --- reach ----------------------------------------------------------------------------


def speakers(scenario: Scenario) -> list[str]:
    """The agents that take a turn in the scenario's topology (valid scenarios only)."""
    team = scenario.team
    if team.topology == "round_robin":
        return list(team.order or _agent_names(scenario))
    if team.topology == "reflection":
        return [team.producer or "", team.critic or ""]
    if team.topology == "supervisor":
        return _agent_names(scenario)
    return [t.agent for t in scenario.tasks]


_UNREACHABLE = {
    "sequential": "no task is assigned to it; give it a task, or remove the agent",
    "parallel": "no task is assigned to it; give it a task, or remove the agent",
    "round_robin": "team.order leaves it out; add it to team.order, or remove the agent",
    "reflection": "a reflection team runs only its producer and critic; remove the agent, "
    "or use another topology",
    "supervisor": "the supervisor cannot route to it; remove the agent",
}


def _reach_problems(scenario: Scenario) -> list[Problem]:
    reached = set(speakers(scenario))
    reason = _UNREACHABLE[scenario.team.topology]
    return [
        Problem(("agents", i, "name"), f"agent {agent.name!r} would never speak: {reason}")
        for i, agent in enumerate(scenario.agents)
        if agent.name not in reached
    ]
