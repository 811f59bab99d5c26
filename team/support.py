"""The support matrix: what each framework can run, and why not where it cannot.

Data, read by the runners (which refuse before anything runs, exit 2), by `validate`, by the
conformance suite and by a test that holds the README's table to it.
"""

from __future__ import annotations

from collections.abc import Callable

from scenarios.errors import ScenarioError
from scenarios.spec import AgentSpec, Scenario

FRAMEWORKS: tuple[str, ...] = ("langgraph", "crewai", "autogen")

# (framework, topology) -> why the framework cannot express it; every other pair runs.
UNSUPPORTED: dict[tuple[str, str], str] = {
    ("crewai", "round_robin"): "CrewAI has no group chat in which agents speak in a fixed order",
    ("crewai", "reflection"): "CrewAI has no producer/critic loop that ends on an approval phrase",
}
CHAT_TOPOLOGIES = ("round_robin", "reflection", "supervisor")  # AutoGen: a group chat
AUTOGEN_TASK_SOURCE = "user"  # the source AutoGen gives the task message


def supported(framework: str, topology: str) -> bool:
    """Whether `framework` runs `topology` at all."""
    return (framework, topology) not in UNSUPPORTED


def frameworks_for(topology: str) -> list[str]:
    """The frameworks that run `topology`."""
    return [f for f in FRAMEWORKS if supported(f, topology)]


def agent_role(agent: AgentSpec) -> str:
    """The agent's role as CrewAI uses it: its `role`, else its name."""
    return agent.role or agent.name


def refusal(scenario: Scenario, framework: str) -> str | None:
    """Why `framework` cannot run `scenario` faithfully (one line naming the fix), or None."""
    topology = scenario.team.topology
    if not supported(framework, topology):
        others = " or ".join(frameworks_for(topology))
        why = UNSUPPORTED[(framework, topology)]
        return (
            f"topology {topology!r} is not supported on {framework}: {why}; "
            f"use --framework {others}"
        )
    for check in _CHECKS.get(framework, ()):
        problem = check(scenario)
        if problem is not None:
            return problem
    return None


def check(scenario: Scenario, framework: str) -> None:
    """Raise ScenarioError (exit 2) when `framework` cannot run `scenario`."""
    problem = refusal(scenario, framework)
    if problem is not None:
        raise ScenarioError(problem)


# --- CrewAI ---------------------------------------------------------------------------------


def _crewai_roles(scenario: Scenario) -> str | None:
    """CrewAI's manager delegates by role, so in a supervisor team the roles must differ."""
    if scenario.team.topology != "supervisor":
        return None
    seen: dict[str, str] = {}
    for agent in scenario.agents:
        role = agent_role(agent).casefold()
        if role in seen:
            return (
                f"agents {seen[role]!r} and {agent.name!r} share the role {agent_role(agent)!r}; "
                "CrewAI delegates by role: give each agent its own role"
            )
        seen[role] = agent.name
    return None


def _crewai_manager_tools(scenario: Scenario) -> str | None:
    """CrewAI's manager may only delegate: it cannot have tools of its own."""
    if scenario.team.topology != "supervisor":
        return None
    boss = scenario.agent(scenario.team.supervisor or "")
    if not boss.tools:
        return None
    return (
        f"supervisor {boss.name!r} lists tools, but CrewAI's manager agent only delegates: "
        "give the tools to a member, or use --framework langgraph or autogen"
    )


# --- AutoGen --------------------------------------------------------------------------------


def _autogen_speakers(scenario: Scenario) -> str | None:
    """AutoGen's RoundRobinGroupChat takes each speaker once."""
    order = scenario.team.order or []
    repeated = sorted({name for name in order if order.count(name) > 1})
    if scenario.team.topology != "round_robin" or not repeated:
        return None
    return (
        f"team.order lists {repeated[0]!r} more than once; AutoGen's "
        "RoundRobinGroupChat takes each speaker once: list each agent once, "
        "or use --framework langgraph"
    )


def _autogen_chat_schemas(scenario: Scenario) -> str | None:
    """AutoGen's group chats carry free text: an output schema has no place there."""
    topology = scenario.team.topology
    task = next((t for t in scenario.tasks if t.output_schema is not None), None)
    if topology not in CHAT_TOPOLOGIES or task is None:
        return None
    return (
        f"task {task.name!r} has an output_schema, which the autogen adapter cannot "
        f"honour in a {topology} team yet; remove it, or use --framework langgraph"
    )


def _autogen_user_name(scenario: Scenario) -> str | None:
    """AutoGen gives the task message the source 'user': no agent may be called so."""
    if AUTOGEN_TASK_SOURCE not in {a.name for a in scenario.agents}:
        return None
    return "an agent is named 'user', which AutoGen reserves for the task message: rename the agent"


_CHECKS: dict[str, tuple[Callable[[Scenario], str | None], ...]] = {
    "crewai": (_crewai_roles, _crewai_manager_tools),
    "autogen": (_autogen_speakers, _autogen_chat_schemas, _autogen_user_name),
}
