"""The scenario spec: pydantic v2 models for one YAML scenario file.

The models are frozen and forbid unknown keys, so a typo in a scenario is an error that
names the field. Cross-references (an agent's model profile, a task's agent, dependency
cycles) are checked by `team.validate`, which reports `Problem`s with the same locations.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from scenarios.checkspec import CheckSpec

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Topology = Literal["sequential", "supervisor", "round_robin", "parallel", "reflection"]
TOPOLOGIES: tuple[str, ...] = ("sequential", "supervisor", "round_robin", "parallel", "reflection")
Loc = tuple[str | int, ...]


def canonical_tag(tag: str) -> str:
    """A model tag with its `:latest` default, as Ollama matches names."""
    return tag if ":" in tag else f"{tag}:latest"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (a path into the YAML) and what to do."""

    loc: Loc
    message: str


def format_loc(loc: Loc) -> str:
    """`("agents", 1, "model")` → `agents[1].model`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class InputSpec(_Spec):
    """A named input of the scenario, used as `{name}` in prompts and tasks."""

    default: str | None = None
    description: str = ""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        """Accept `topic: some default` as shorthand for `topic: {default: ...}`."""
        if isinstance(value, str | int | float | bool):
            return {"default": str(value)}
        return value


class ModelOptions(_Spec):
    """Options passed to the model server on every call (Ollama `options`)."""

    num_ctx: int = Field(2048, ge=64, description="Context window; always sent explicitly.")
    temperature: float | None = Field(None, ge=0)
    seed: int | None = None
    num_predict: int | None = Field(None, description="Max tokens to generate (-1: no limit).")
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0)
    repeat_penalty: float | None = None
    stop: list[str] | None = None
    keep_alive: str | int | None = Field(
        None, description="How long the server keeps the model loaded ('5m', 300, -1)."
    )

    def wire_options(self) -> dict[str, Any]:
        """The Ollama `options` object: every set option except `keep_alive`."""
        return self.model_dump(exclude_none=True, exclude={"keep_alive"})


class ModelProfile(_Spec):
    """A named model: which server speaks for it, which tag, with which options."""

    provider: Literal["ollama", "openai"] = "ollama"
    model: str = Field(min_length=1, description="Model tag, e.g. smollm2:135m or llama3.1:8b.")
    base_url: str | None = Field(
        None, description="Server URL; default OLLAMA_HOST, else http://localhost:11434."
    )
    api_key: str | None = Field(None, description="For provider openai; default 'not-needed'.")
    options: ModelOptions = ModelOptions()


class AgentSpec(_Spec):
    """One agent: who it is, which model it uses, which tools it may call."""

    name: str = Field(pattern=NAME_PATTERN)
    role: str = ""
    goal: str = ""
    backstory: str = ""
    system_prompt: str | None = Field(None, description="Inline system prompt.")
    prompt: str | None = Field(None, description="Name of a template in prompts/.")
    model: str = "default"
    tools: list[str] = []

    @model_validator(mode="after")
    def _one_prompt_source(self) -> AgentSpec:
        """Refuse both an inline system prompt and a template name."""
        if self.system_prompt is not None and self.prompt is not None:
            raise ValueError("give either system_prompt or prompt (a template name), not both")
        if not (self.role or self.system_prompt or self.prompt):
            raise ValueError("give a role (with goal and backstory), a system_prompt or a prompt")
        return self


class TaskSpec(_Spec):
    """One task: what to do, what to hand back, who does it, which outputs it reads."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = Field(min_length=1)
    expected_output: str = ""
    agent: str
    context: list[str] = Field([], description="Names of tasks whose outputs this task reads.")
    output_schema: dict[str, Any] | str | None = Field(
        None,
        description="The shape of the task's answer: a JSON schema of an object, or the "
        "import path of a pydantic model (module:ClassName). The answer is asked for as "
        "structured output and validated.",
    )
    checks: list[CheckSpec] = Field([], description="Checks of this task's output, every run.")


class TeamSpec(_Spec):
    """How the agents take turns, and the limits that stop them."""

    topology: Topology = "sequential"
    max_turns: int = Field(12, ge=1, description="Hard cap on agent turns in one run.")
    termination: str | None = Field(
        None, description="Phrase that ends a round_robin chat or approves in reflection."
    )
    supervisor: str | None = Field(None, description="supervisor: the routing agent.")
    max_steps: int = Field(6, ge=1, description="supervisor: most routing decisions.")
    order: list[str] | None = Field(None, description="round_robin: speaking order.")
    max_rounds: int = Field(3, ge=1, description="round_robin: most rounds.")
    producer: str | None = Field(None, description="reflection: the agent that writes.")
    critic: str | None = Field(None, description="reflection: the agent that reviews.")
    max_revisions: int = Field(2, ge=0, description="reflection: most revisions after review.")
    final_task: str | None = Field(None, description="parallel: the fan-in task.")


class Scenario(_Spec):
    """A whole scenario file."""

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    inputs: dict[str, InputSpec] = {}
    models: dict[str, ModelProfile] = Field(min_length=1)
    agents: list[AgentSpec] = Field(min_length=1)
    tasks: list[TaskSpec] = []
    team: TeamSpec = TeamSpec()
    checks: list[CheckSpec] = Field([], description="Checks of the run, after every run.")

    @field_validator("agents")
    @classmethod
    def _unique_agents(cls, agents: list[AgentSpec]) -> list[AgentSpec]:
        """Agent names are node ids and URL parts: they must be unique."""
        _refuse_duplicates([a.name for a in agents], "agent")
        return agents

    @field_validator("tasks")
    @classmethod
    def _unique_tasks(cls, tasks: list[TaskSpec]) -> list[TaskSpec]:
        """Task names are referenced by `context`: they must be unique."""
        _refuse_duplicates([t.name for t in tasks], "task")
        return tasks

    def agent(self, name: str) -> AgentSpec:
        """The agent called `name` (KeyError if none)."""
        for agent in self.agents:
            if agent.name == name:
                return agent
        raise KeyError(name)

    def task(self, name: str) -> TaskSpec:
        """The task called `name` (KeyError if none)."""
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(name)

    def profile_for(self, agent_name: str) -> ModelProfile:
        """The model profile the agent uses."""
        return self.models[self.agent(agent_name).model]

    def input_values(self, given: dict[str, str] | None = None) -> dict[str, str]:
        """Defaults overlaid with `given`; a missing required or unknown input is an error."""
        given = dict(given or {})
        unknown = sorted(set(given) - set(self.inputs))
        if unknown:
            raise ValueError(
                f"unknown input {unknown[0]!r} (known: {', '.join(self.inputs) or 'none'})"
            )
        values: dict[str, str] = {}
        for name, spec in self.inputs.items():
            value = given.get(name, spec.default)
            if value is None:
                raise ValueError(f"input {name!r} has no default: pass --input {name}=...")
            values[name] = value
        return values

    def with_models(self, overrides: dict[str, str]) -> Scenario:
        """A copy whose named profiles use other model tags (`--model PROFILE=tag`)."""
        unknown = sorted(set(overrides) - set(self.models))
        if unknown:
            raise ValueError(
                f"unknown model profile {unknown[0]!r} (known: {', '.join(self.models)})"
            )
        models = {
            name: profile.model_copy(update={"model": overrides.get(name, profile.model)})
            for name, profile in self.models.items()
        }
        return self.model_copy(update={"models": models})


def _refuse_duplicates(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"duplicate {what} name {name!r}")
        seen.add(name)


def placeholders(text: str) -> list[str]:
    """The `{name}` fields a template text uses, in order."""
    return [field for _, field, _, _ in string.Formatter().parse(text) if field]


def render(text: str, values: dict[str, str]) -> str:
    """Fill `{name}` fields from `values`; `{{` and `}}` stay literal braces."""
    return text.format_map(values)
