"""An LLM as judge: it rates an output against a rubric, through the run's gateway.

The judge's answer is structured output (Ollama's `format`): a rating from 1 to the
scale and a short reason, so a verdict is a number with its reason, never prose to parse.
Its calls go through the gateway like the team's, marked with the header `X-Lab-Role:
judge`: the trace records them as `llm_call` with `role: judge`, and leaves them out of
the team's totals. A 135M model is no good judge: name a judge model on your Ollama.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from checks.view import RunView
from scenarios.checkspec import CheckSpec

ROLE_HEADER = "X-Lab-Role"
JUDGE_ROLE = "judge"
REASON_CHARS = 300
TIMEOUT_S = 600.0


class JudgeError(RuntimeError):
    """The judge model did not give a usable verdict."""


@dataclass(frozen=True)
class GatewayJudge:
    """A judge model behind a gateway URL (`/r/<run>/a/<agent>`), asked on Ollama's /api/chat."""

    url: str
    model: str
    options: dict[str, Any]

    def rate(self, check: CheckSpec, output: str, view: RunView) -> tuple[float, str]:
        """The rating scaled to 0..1 ((rating - 1) / (scale - 1)) and the judge's reason."""
        assert check.judge is not None
        scale = check.judge.scale
        body = {
            "model": self.model,
            "messages": judge_messages(check.judge.rubric, scale, output, view),
            "format": verdict_schema(scale),
            "stream": False,
            "options": {**self.options, "temperature": 0},
        }
        reply = httpx.post(
            f"{self.url}/api/chat", json=body, headers={ROLE_HEADER: JUDGE_ROLE}, timeout=TIMEOUT_S
        )
        if reply.status_code != 200:
            raise JudgeError(
                f"the judge {self.model} answered HTTP {reply.status_code}: {reply.text[:200]}"
            )
        rating, reason = parse_verdict(reply.json()["message"]["content"], scale)
        return (rating - 1) / (scale - 1), f"{rating}/{scale}: {reason}"


def verdict_schema(scale: int) -> dict[str, Any]:
    """The shape of a verdict: an integer rating 1..scale, then a short reason."""
    return {
        "type": "object",
        "properties": {
            "rating": {"type": "integer", "minimum": 1, "maximum": scale},
            "reason": {"type": "string", "maxLength": REASON_CHARS},
        },
        "required": ["rating", "reason"],
        "additionalProperties": False,
    }


def judge_messages(rubric: str, scale: int, output: str, view: RunView) -> list[dict[str, str]]:
    """What the judge reads: its job, the rubric, the run's inputs and the output to rate."""
    inputs = "\n".join(f"- {k}: {v}" for k, v in view.inputs.items()) or "(none)"
    system = (
        "You are a strict, fair judge. You rate one answer against a rubric and reply with "
        f"JSON only: a rating from 1 (fails the rubric) to {scale} (fully meets it) and "
        "one sentence saying why."
    )
    user = f"Rubric:\n{rubric}\n\nInputs of the task:\n{inputs}\n\nAnswer to rate:\n{output}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_verdict(text: str, scale: int) -> tuple[int, str]:
    """The rating and reason of a verdict (JudgeError when it is not one)."""
    try:
        verdict = json.loads(text)
        rating = int(verdict["rating"])
    except (ValueError, KeyError, TypeError):
        raise JudgeError(f"the judge's answer is not a verdict: {text[:200]!r}") from None
    if not 1 <= rating <= scale:
        raise JudgeError(f"the judge rated {rating}, outside 1..{scale}")
    return rating, str(verdict.get("reason", ""))
