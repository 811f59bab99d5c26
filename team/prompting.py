"""The text every agent is given: its system prompt and the prompt of each task."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import prompts
from scenarios.spec import AgentSpec, Scenario, TaskSpec, render
from team.rules import speaking_order


def system_prompt(agent: AgentSpec, inputs: Mapping[str, str], default: str = "agent") -> str:
    """The agent's inline `system_prompt`, else its template (or `default`) filled in."""
    values = dict(inputs)
    if agent.system_prompt is not None:
        return render(agent.system_prompt, values).strip()
    fields = {f: render(getattr(agent, f), values) for f in ("role", "goal", "backstory")}
    template = prompts.load(agent.prompt or default)
    return render(template, {**values, **fields}).strip()


def task_prompt(task: TaskSpec, inputs: Mapping[str, str], context: Mapping[str, str]) -> str:
    """The task's rendered description, its expected output, and the outputs it reads."""
    parts = [render(task.description, dict(inputs)).strip()]
    if task.expected_output:
        parts.append(f"Expected output: {render(task.expected_output, dict(inputs)).strip()}")
    if context:
        parts.append(context_block(context))
    return "\n\n".join(parts)


def context_block(outputs: Mapping[str, str]) -> str:
    """Outputs of earlier tasks, each under a heading naming its task."""
    sections = [f"### Output of task '{name}'\n{text.strip()}" for name, text in outputs.items()]
    return "Context from earlier tasks:\n\n" + "\n\n".join(sections)


def work_summary(scenario: Scenario, inputs: Mapping[str, str]) -> str:
    """The scenario's tasks as a list of work items with the agent each is meant for."""
    return "\n".join(_work_item(task, inputs) for task in scenario.tasks)


def _work_item(task: TaskSpec, inputs: Mapping[str, str]) -> str:
    line = f"- {task.name} ({task.agent}): {render(task.description, dict(inputs)).strip()}"
    if task.expected_output:
        line += f" Expected output: {render(task.expected_output, dict(inputs)).strip()}"
    return line


def member_summary(scenario: Scenario, names: list[str], inputs: Mapping[str, str]) -> str:
    """One line per team member: name, role and goal."""
    lines = []
    for name in names:
        agent = scenario.agent(name)
        about = " - ".join(render(x, dict(inputs)) for x in (agent.role, agent.goal) if x)
        lines.append(f"- {name}: {about}" if about else f"- {name}")
    return "\n".join(lines)


def transcript(entries: list[tuple[str, str]]) -> str:
    """`(speaker, text)` pairs as a readable transcript."""
    return "\n\n".join(f"[{speaker}]\n{text.strip()}" for speaker, text in entries)


def schema_hint(schema: dict[str, Any]) -> str:
    """The instruction that asks for a JSON answer, naming the schema's fields."""
    properties = schema.get("properties") or {}
    fields = ", ".join(f"{name} ({_kind(spec)})" for name, spec in properties.items())
    schema_text = json.dumps(schema, separators=(",", ":"))
    hint = "Answer with only a JSON object"
    if fields:
        hint += f" with these fields: {fields}"
    return f"{hint}. It must match this JSON schema: {schema_text}"


def _kind(spec: Any) -> str:
    if not isinstance(spec, dict):
        return "value"
    if "$ref" in spec:
        return "object"
    kind = spec.get("type", "value")
    return "/".join(kind) if isinstance(kind, list) else str(kind)


def chat_opening(scenario: Scenario, inputs: Mapping[str, str]) -> str:
    """The message that opens a group chat: the first task, rendered."""
    return task_prompt(scenario.tasks[0], inputs, {})


def chat_system(scenario: Scenario, inputs: Mapping[str, str], name: str) -> str:
    """A chat speaker's system prompt plus what the group chat expects of it."""
    others = [o for o in dict.fromkeys(speaking_order(scenario)) if o != name]
    base = system_prompt(scenario.agent(name), inputs)
    note = f"You are {name} in a group chat with {', '.join(others) or 'no one else'}."
    phrase = scenario.team.termination
    if phrase:
        note += f" When the work is complete, say {phrase}."
    return f"{base}\n\n{note}"
