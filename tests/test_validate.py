"""The compiler's semantic checks, end to end through the loader: `file:line: field: message`."""

from __future__ import annotations

import pytest

from scenarios.errors import ScenarioError
from scenarios.loader import load_text
from team.validate import validate

HEAD = """\
name: t
inputs:
  topic: cats
models:
  default: {model: smollm2:135m}
  fast: {model: smollm2:135m}
"""
TWO_AGENTS = """\
agents:
  - name: planner
    role: Planner
  - name: writer
    role: Writer
"""
THREE_AGENTS = (
    TWO_AGENTS
    + """\
  - name: critic
    role: Critic
"""
)
TWO_TASKS = """\
tasks:
  - {name: plan, description: Plan, agent: planner}
  - {name: write, description: Write, agent: writer}
"""

CASES: dict[str, tuple[str, str]] = {
    "unknown model profile": (
        HEAD + TWO_AGENTS + "    model: big\n" + TWO_TASKS,
        "t.yaml:12: agents[1].model: unknown model profile 'big' (known: default, fast)",
    ),
    "unknown agent in a task": (
        HEAD + TWO_AGENTS + "tasks:\n  - {name: plan, description: Plan, agent: planer}\n"
        "  - {name: write, description: Write, agent: writer}\n",
        "t.yaml:13: tasks[0].agent: unknown agent 'planer' (known: planner, writer)",
    ),
    "unknown task in context": (
        HEAD + TWO_AGENTS + "tasks:\n  - {name: plan, description: Plan, agent: planner}\n"
        "  - {name: write, description: Write, agent: writer, context: [plna]}\n",
        "t.yaml:14: tasks[1].context[0]: unknown task 'plna' (known: plan, write)",
    ),
    "task depending on itself": (
        HEAD
        + TWO_AGENTS
        + "tasks:\n  - {name: plan, description: Plan, agent: planner, context: [plan]}\n"
        "  - {name: write, description: Write, agent: writer}\n",
        "t.yaml:13: tasks[0].context[0]: task 'plan' depends on itself; "
        "remove 'plan' from its context",
    ),
    "two-task cycle": (
        HEAD
        + TWO_AGENTS
        + """\
tasks:
  - name: plan
    description: Plan
    agent: planner
    context: [write]
  - name: write
    description: Write
    agent: writer
    context: [plan]
""",
        "t.yaml:16: tasks[0].context: dependency cycle: plan -> write -> plan (each task "
        "reads the next one's output); remove one of these context entries so the tasks "
        "can run in order",
    ),
    "three-task cycle": (
        HEAD
        + TWO_AGENTS
        + """\
tasks:
  - {name: a, description: A, agent: planner, context: [c]}
  - {name: b, description: B, agent: writer, context: [a]}
  - {name: c, description: C, agent: writer, context: [b]}
""",
        "t.yaml:13: tasks[0].context: dependency cycle: a -> c -> b -> a (each task reads "
        "the next one's output); remove one of these context entries so the tasks can run "
        "in order",
    ),
    "unknown prompt template": (
        HEAD + TWO_AGENTS + "    prompt: nope\n" + TWO_TASKS,
        "t.yaml:12: agents[1].prompt: unknown prompt template 'nope' "
        "(known: agent, critic, supervisor)",
    ),
    "unknown tool": (
        HEAD + TWO_AGENTS + "    tools: [search]\n" + TWO_TASKS,
        "t.yaml:12: agents[1].tools[0]: unknown tool 'search' "
        "(known: calculator, list_files, read_file, retrieve, write_file)",
    ),
    "undeclared placeholder in a task": (
        HEAD + TWO_AGENTS + "tasks:\n  - {name: plan, description: 'Plan {topic} for {reader}',"
        " agent: planner}\n  - {name: write, description: Write, agent: writer}\n",
        "t.yaml:13: tasks[0].description: uses {reader}, which is not a declared input "
        "(declared inputs: topic); declare it under inputs: or write {{reader}} for literal "
        "braces",
    ),
    "undeclared placeholder in an agent's goal": (
        HEAD + TWO_AGENTS + "    goal: Write for {audience}\n" + TWO_TASKS,
        "t.yaml:12: agents[1].goal: uses {audience}, which is not a declared input "
        "(declared inputs: topic); declare it under inputs: or write {{audience}} for "
        "literal braces",
    ),
    "unbalanced brace": (
        HEAD + TWO_AGENTS + "    system_prompt: 'You write {topic'\n" + TWO_TASKS,
        "t.yaml:12: agents[1].system_prompt: bad braces in text (expected '}' before end of "
        "string); write {{ and }} for literal braces",
    ),
    "no tasks": (
        HEAD + TWO_AGENTS + "team: {topology: sequential}\n",
        "t.yaml:12: team.topology: a sequential team needs at least one task: add tasks:",
    ),
    "agent with no task in sequential": (
        HEAD + TWO_AGENTS + "tasks:\n  - {name: plan, description: Plan, agent: planner}\n",
        "t.yaml:10: agents[1].name: agent 'writer' would never speak: no task is assigned to "
        "it; give it a task, or remove the agent",
    ),
    "supervisor not named": (
        HEAD + TWO_AGENTS + TWO_TASKS + "team:\n  topology: supervisor\n",
        "t.yaml:15: team.supervisor: a supervisor team needs team.supervisor naming the "
        "routing agent (agents: planner, writer)",
    ),
    "supervisor unknown": (
        HEAD + TWO_AGENTS + TWO_TASKS + "team:\n  topology: supervisor\n  supervisor: boss\n",
        "t.yaml:17: team.supervisor: unknown agent 'boss' (known: planner, writer)",
    ),
    "supervisor alone": (
        HEAD + "agents:\n  - {name: boss, role: Boss}\n"
        "tasks:\n  - {name: plan, description: Plan, agent: boss}\n"
        "team:\n  topology: supervisor\n  supervisor: boss\n",
        "t.yaml:7: agents: supervisor 'boss' has no one to route to: add at least one other agent",
    ),
    "reflection without critic": (
        HEAD + TWO_AGENTS + TWO_TASKS + "team:\n  topology: reflection\n  producer: writer\n",
        "t.yaml:15: team.critic: a reflection team needs team.critic (agents: planner, writer)",
    ),
    "reflection producer is critic": (
        HEAD
        + TWO_AGENTS
        + TWO_TASKS
        + "team:\n  topology: reflection\n  producer: writer\n  critic: writer\n",
        "t.yaml:18: team.critic: producer and critic are both 'writer': name two different agents",
    ),
    "reflection producer without task": (
        HEAD + THREE_AGENTS + "tasks:\n  - {name: plan, description: Plan, agent: planner}\n"
        "team:\n  topology: reflection\n  producer: critic\n  critic: writer\n",
        "t.yaml:18: team.producer: producer 'critic' has no task: add a task with agent: "
        "critic (the work it drafts)",
    ),
    "agent outside reflection": (
        HEAD
        + THREE_AGENTS
        + TWO_TASKS
        + "team:\n  topology: reflection\n  producer: writer\n  critic: critic\n",
        "t.yaml:8: agents[0].name: agent 'planner' would never speak: a reflection team runs "
        "only its producer and critic; remove the agent, or use another topology",
    ),
    "second critic task in reflection": (
        HEAD + THREE_AGENTS + "tasks:\n  - {name: write, description: Write, agent: writer}\n"
        "  - {name: review, description: Review, agent: critic}\n"
        "  - {name: recheck, description: Recheck, agent: critic}\n"
        "team:\n  topology: reflection\n  producer: writer\n  critic: critic\n",
        "t.yaml:17: tasks[2].name: a reflection team runs one task each for its producer and "
        "critic, so task 'recheck' would never run: merge it into task 'review', or use "
        "topology sequential",
    ),
    "round_robin order names an unknown agent": (
        HEAD + TWO_AGENTS + "tasks:\n  - {name: chat, description: Chat, agent: writer}\n"
        "team:\n  topology: round_robin\n  order: [writer, planer]\n",
        "t.yaml:16: team.order[1]: unknown agent 'planer' (known: planner, writer)",
    ),
    "agent left out of round_robin order": (
        HEAD + THREE_AGENTS + "tasks:\n  - {name: chat, description: Chat, agent: writer}\n"
        "team:\n  topology: round_robin\n  order: [writer, planner]\n",
        "t.yaml:12: agents[2].name: agent 'critic' would never speak: team.order leaves it "
        "out; add it to team.order, or remove the agent",
    ),
    "second task in round_robin": (
        HEAD + TWO_AGENTS + TWO_TASKS + "team:\n  topology: round_robin\n",
        "t.yaml:14: tasks[1].name: a round_robin chat opens with the first task only, so task "
        "'write' would never be used: merge it into task 'plan', or use topology sequential",
    ),
    "parallel branches depending on each other": (
        HEAD
        + TWO_AGENTS
        + """\
tasks:
  - {name: a, description: A, agent: planner}
  - {name: b, description: B, agent: planner, context: [a]}
  - {name: merge, description: M, agent: writer}
team:
  topology: parallel
  final_task: merge
""",
        "t.yaml:14: tasks[1].context[0]: parallel branches run independently, but task 'b' "
        "reads 'a': remove it from context, or use topology sequential",
    ),
    "parallel without a fan-in task": (
        HEAD + TWO_AGENTS + TWO_TASKS + "team:\n  topology: parallel\n",
        "t.yaml:15: team.final_task: a parallel team needs one fan-in task: set "
        "team.final_task, or let exactly one task list the others in its context (tasks "
        "with context: none)",
    ),
    "unknown final task": (
        HEAD + TWO_AGENTS + TWO_TASKS + "team:\n  topology: parallel\n  final_task: mrege\n",
        "t.yaml:17: team.final_task: unknown task 'mrege' (known: plan, write)",
    ),
}


@pytest.mark.parametrize("text, expected", CASES.values(), ids=list(CASES))
def test_broken_scenario_gives_its_message(text: str, expected: str) -> None:
    """Each broken scenario is refused with exactly one message naming file, line and fix."""
    with pytest.raises(ScenarioError) as caught:
        load_text(text, source="t.yaml")
    assert str(caught.value) == expected


def test_every_problem_is_reported_at_once() -> None:
    """Independent mistakes are all listed, one line each, in file order."""
    text = (
        HEAD
        + TWO_AGENTS
        + "    model: big\n"
        + (
            "tasks:\n  - {name: plan, description: Plan, agent: planer}\n"
            "  - {name: write, description: Write, agent: writer}\n"
        )
    )
    with pytest.raises(ScenarioError) as caught:
        load_text(text, source="t.yaml")
    assert str(caught.value).splitlines() == [
        "t.yaml:12: agents[1].model: unknown model profile 'big' (known: default, fast)",
        "t.yaml:14: tasks[0].agent: unknown agent 'planer' (known: planner, writer)",
    ]


VALID = {
    "sequential": TWO_TASKS,
    "parallel": TWO_TASKS.replace("agent: writer}", "agent: writer, context: [plan]}")
    + "team: {topology: parallel}\n",
    "supervisor": TWO_TASKS.replace("agent: planner}", "agent: writer}")
    + "team: {topology: supervisor, supervisor: planner}\n",
    "round_robin": "tasks:\n  - {name: chat, description: 'Talk about {topic}', agent: writer}\n"
    "team: {topology: round_robin, termination: DONE}\n",
    "reflection": "tasks:\n  - {name: write, description: Write, agent: writer}\n"
    "team: {topology: reflection, producer: writer, critic: planner}\n",
}


@pytest.mark.parametrize("topology", list(VALID))
def test_valid_scenario_has_no_problems(topology: str) -> None:
    """A well-formed scenario of each topology passes validation."""
    scenario = load_text(HEAD + TWO_AGENTS + VALID[topology], source="t.yaml")
    assert scenario.team.topology == topology
    assert validate(scenario) == []
