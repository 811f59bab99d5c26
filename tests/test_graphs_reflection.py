"""The reflection topology: a producer drafts, a critic reviews, until approval or the limit."""

from __future__ import annotations

from pathlib import Path

from graphs import mermaid
from scenarios.loader import load_text
from tests.fakes import Team, run_scenario

YAML = """\
name: t
inputs:
  topic: cats
models:
  default: {model: smollm2:135m}
agents:
  - {name: writer, role: Writer}
  - {name: reviewer, role: Reviewer}
tasks:
  - {name: poem, description: 'Write a poem about {topic}.', agent: writer}
team:
  topology: reflection
  producer: writer
  critic: reviewer
  max_revisions: 2
  max_turns: 12
"""


def test_producer_revises_until_the_critic_approves(tmp_path: Path) -> None:
    """writer, reviewer, writer, reviewer; APPROVED ends the loop; the last draft is final."""
    scripted = Team(writer=["draft 1", "draft 2"], reviewer=["Make it rhyme.", "APPROVED"])
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert scripted.log == ["writer", "reviewer", "writer", "reviewer"]
    assert outcome.final == "draft 2"
    assert outcome.kinds("warning") == []


def test_trace_has_drafts_reviews_and_verdicts(tmp_path: Path) -> None:
    """Every turn is followed by its route: to review, to revise, and approval to END."""
    scripted = Team(writer=["draft 1", "draft 2"], reviewer=["Make it rhyme.", "APPROVED"])
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert [(e["kind"], e.get("agent") or e["from"], e.get("to")) for e in outcome.events] == [
        ("agent_message", "writer", None),
        ("route", "writer", "reviewer"),
        ("agent_message", "reviewer", None),
        ("route", "reviewer", "writer"),
        ("agent_message", "writer", None),
        ("route", "writer", "reviewer"),
        ("agent_message", "reviewer", None),
        ("route", "reviewer", "END"),
    ]
    assert [r["reason"] for r in outcome.kinds("route")] == [
        "draft ready for review",
        "revise (1 of 2)",
        "revision 1 ready for review",
        "critic approved (said 'APPROVED')",
    ]
    assert [m["turn"] for m in outcome.kinds("agent_message")] == [1, 2, 3, 4]
    assert outcome.kinds("agent_message")[0]["task"] == "poem"


def test_revision_sees_the_draft_and_the_critique(tmp_path: Path) -> None:
    """The producer revises its own last draft with the critic's words; the critic sees it."""
    scripted = Team(writer=["draft 1", "draft 2"], reviewer=["Make it rhyme.", "APPROVED"])
    run_scenario(YAML, scripted, tmp_path)
    revision = scripted.models["writer"].prompt(1)
    assert "draft 1" in revision
    assert "Critique from reviewer:\nMake it rhyme." in revision
    review = scripted.models["reviewer"].prompt(0)
    assert "Write a poem about cats." in review
    assert "Draft:\ndraft 1" in review
    assert "reply with APPROVED only" in review
    assert "a strict reviewer" in str(scripted.models["reviewer"].received[0][0].content)


def test_revision_limit_keeps_the_last_draft(tmp_path: Path) -> None:
    """With max_revisions 1 and no approval, two drafts are reviewed and a warning ends it."""
    text = YAML.replace("max_revisions: 2", "max_revisions: 1")
    scripted = Team(writer=["draft 1", "draft 2"], reviewer=["No.", "Still no."])
    outcome = run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["writer", "reviewer", "writer", "reviewer"]
    assert outcome.final == "draft 2"
    warning = outcome.kinds("warning")[0]
    assert (warning["code"], warning["max_revisions"]) == ("max_revisions_reached", 1)
    assert outcome.events[-1]["reason"] == "team.max_revisions reached"


def test_custom_approval_phrase(tmp_path: Path) -> None:
    """team.termination replaces APPROVED as the approval phrase."""
    text = YAML.replace("  critic: reviewer\n", "  critic: reviewer\n  termination: LGTM\n")
    scripted = Team(writer=["draft 1", "draft 2"], reviewer=["APPROVED? no.", "LGTM"])
    outcome = run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["writer", "reviewer", "writer", "reviewer"]
    assert outcome.final == "draft 2"


def test_turn_limit_stops_before_the_review(tmp_path: Path) -> None:
    """max_turns 3 stops after the first revision, before its review."""
    text = YAML.replace("max_turns: 12", "max_turns: 3")
    scripted = Team(writer=["draft 1", "draft 2"], reviewer=["No."])
    outcome = run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["writer", "reviewer", "writer"]
    assert outcome.final == "draft 2"
    assert outcome.kinds("warning")[0]["code"] == "max_turns_reached"


def test_mermaid_names_producer_and_critic() -> None:
    """The drawing labels the producer and the critic by role."""
    drawing = mermaid(load_text(YAML, source="t.yaml"))
    assert 'writer("writer (producer)")' in drawing
    assert 'reviewer("reviewer (critic)")' in drawing
    assert "reviewer -.-> writer" in drawing


def test_critic_task_gives_review_criteria(tmp_path: Path) -> None:
    """A task of the critic's own is shown to it as review criteria and names its turns."""
    text = YAML.replace(
        "team:\n",
        "  - {name: review, description: Check the rhyme scheme., agent: reviewer}\nteam:\n",
    )
    scripted = Team(writer=["draft 1"], reviewer=["APPROVED"])
    outcome = run_scenario(text, scripted, tmp_path)
    assert "Review criteria:\nCheck the rhyme scheme." in scripted.models["reviewer"].prompt()
    assert [m["task"] for m in outcome.kinds("agent_message")] == ["poem", "review"]
