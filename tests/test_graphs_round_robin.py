"""The round_robin topology: a group chat in team.order until the phrase or the round limit."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage

from graphs import mermaid
from scenarios.loader import load_text
from tests.fakes import Team, run_scenario

# The speaking order differs from the file order on purpose.
YAML = """\
name: t
inputs:
  topic: cats
models:
  default: {model: smollm2:135m}
agents:
  - {name: alice, role: Analyst}
  - {name: bob, role: Builder}
  - {name: carol, role: Critic}
tasks:
  - {name: discuss, description: 'Design a cat feeder for {topic}.', agent: alice}
team:
  topology: round_robin
  order: [carol, alice, bob]
  termination: DONE
  max_rounds: 3
  max_turns: 12
"""


def test_agents_speak_in_order_until_the_phrase(tmp_path: Path) -> None:
    """carol, alice, bob, carol speak in team.order; carol's DONE ends the chat."""
    scripted = Team(carol=["c1", "c2 DONE"], alice=["a1"], bob=["b1"])
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert scripted.log == ["carol", "alice", "bob", "carol"]
    assert outcome.final == "c2"
    assert outcome.kinds("warning") == []


def test_trace_has_speaker_selection_and_termination(tmp_path: Path) -> None:
    """Each message is followed by the route to the next speaker, and the phrase routes to END."""
    scripted = Team(carol=["c1", "c2 DONE"], alice=["a1"], bob=["b1"])
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert [(e["from"], e["to"], e["reason"]) for e in outcome.kinds("route")] == [
        ("carol", "alice", "round 1: 'alice' speaks next in team.order"),
        ("alice", "bob", "round 1: 'bob' speaks next in team.order"),
        ("bob", "carol", "round 2: 'carol' speaks next in team.order"),
        ("carol", "END", "termination phrase 'DONE' said"),
    ]
    messages = outcome.kinds("agent_message")
    assert [(m["agent"], m["turn"], m["content"]) for m in messages] == [
        ("carol", 1, "c1"),
        ("alice", 2, "a1"),
        ("bob", 3, "b1"),
        ("carol", 4, "c2 DONE"),
    ]
    assert [e["kind"] for e in outcome.events[:2]] == ["agent_message", "route"]


def test_each_speaker_sees_the_transcript(tmp_path: Path) -> None:
    """The opening is the rendered first task; others' messages are named user turns."""
    scripted = Team(carol=["c1", "c2 DONE"], alice=["a1"], bob=["b1"])
    run_scenario(YAML, scripted, tmp_path)
    carol_second = scripted.models["carol"].received[1]
    assert carol_second[1] == HumanMessage("Design a cat feeder for cats.")
    assert carol_second[2] == AIMessage("c1")
    assert carol_second[3].content == "alice: a1"
    assert carol_second[4].content == "bob: b1"
    assert "say DONE" in str(carol_second[0].content)


def test_phrase_alone_leaves_the_message_before_it(tmp_path: Path) -> None:
    """A bare termination message makes the previous message the final output."""
    scripted = Team(carol=["c1"], alice=["DONE"], bob=[])
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert scripted.log == ["carol", "alice"]
    assert outcome.final == "c1"


def test_phrase_is_case_sensitive(tmp_path: Path) -> None:
    """A lowercase 'done' does not end the chat."""
    scripted = Team(carol=["c1 done"], alice=["a1 DONE"], bob=[])
    outcome = run_scenario(YAML, scripted, tmp_path)
    assert scripted.log == ["carol", "alice"]
    assert outcome.final == "a1"


def test_round_limit_ends_the_chat_with_a_warning(tmp_path: Path) -> None:
    """Without the phrase the chat stops after max_rounds full rounds, with a warning."""
    text = YAML.replace("max_rounds: 3", "max_rounds: 2")
    scripted = Team(carol=["c1", "c2"], alice=["a1", "a2"], bob=["b1", "b2"])
    outcome = run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["carol", "alice", "bob", "carol", "alice", "bob"]
    assert outcome.final == "b2"
    warning = outcome.kinds("warning")[0]
    assert (warning["code"], warning["max_rounds"]) == ("max_rounds_reached", 2)
    assert outcome.events[-1] == {
        "kind": "route",
        "from": "bob",
        "to": "END",
        "reason": "team.max_rounds reached",
    }


def test_turn_limit_cuts_a_round(tmp_path: Path) -> None:
    """max_turns stops the chat mid-round with a max_turns_reached warning."""
    text = YAML.replace("max_turns: 12", "max_turns: 2")
    scripted = Team(carol=["c1"], alice=["a1"], bob=[])
    outcome = run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["carol", "alice"]
    assert outcome.kinds("warning")[0]["code"] == "max_turns_reached"


def test_default_order_is_file_order(tmp_path: Path) -> None:
    """Without team.order the agents speak in the order they are listed."""
    text = YAML.replace("  order: [carol, alice, bob]\n", "")
    scripted = Team(alice=["a1"], bob=["b1"], carol=["DONE c1"])
    outcome = run_scenario(text, scripted, tmp_path)
    assert scripted.log == ["alice", "bob", "carol"]
    assert outcome.final == "c1"


def test_mermaid_names_the_speakers() -> None:
    """The drawing has one node per speaker, the first one after START."""
    drawing = mermaid(load_text(YAML, source="t.yaml"))
    for name in ("alice", "bob", "carol"):
        assert f'{name}("{name}")' in drawing
    assert "__start__ --> carol" in drawing
