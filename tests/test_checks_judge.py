"""The judge, scripted: what it is asked, how its verdict becomes a score."""

from __future__ import annotations

import pytest

from checks.judge import GatewayJudge, JudgeError, parse_verdict, verdict_schema
from checks.score import score_one
from checks.view import RunView
from scenarios.checkspec import CheckSpec
from tests.fake_ollama import FakeOllama

CHECK = CheckSpec(judge={"rubric": "Is it about {topic}?", "scale": 5, "pass_at": 0.5})
VIEW = RunView(final_output="An article about lamps.", inputs={"topic": "lamps"})


def test_a_verdict_is_asked_as_structured_output_and_scaled() -> None:
    """The judge gets the rubric, inputs and output with a rating schema; 4/5 scores 0.75."""
    with FakeOllama(['{"rating": 4, "reason": "on topic"}']) as server:
        judge = GatewayJudge(server.url, "smollm2:135m", {"num_ctx": 2048, "temperature": 0.7})
        result = score_one(CHECK, None, VIEW, judge)
    (request,) = server.requests
    assert request["format"] == verdict_schema(5) and request["options"]["temperature"] == 0
    assert "Is it about {topic}?" in request["messages"][1]["content"]
    assert "An article about lamps." in request["messages"][1]["content"]
    assert result.passed and result.score == pytest.approx(0.75)
    assert result.detail == "4/5: on topic"


def test_an_unusable_verdict_fails_the_check_with_the_reason() -> None:
    """Prose instead of a verdict: the check fails, saying the judge gave no verdict."""
    with FakeOllama(["I think it is fine."]) as server:
        result = score_one(CHECK, None, VIEW, GatewayJudge(server.url, "smollm2:135m", {}))
    assert not result.passed and result.score == 0 and "not a verdict" in result.detail


@pytest.mark.parametrize("text", ['{"rating": 9, "reason": "x"}', '{"reason": "x"}', "[]"])
def test_parse_verdict_refuses_what_is_not_a_rating_in_range(text: str) -> None:
    """Out of range, missing or not an object: JudgeError."""
    with pytest.raises(JudgeError):
        parse_verdict(text, 5)
