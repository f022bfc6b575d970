"""Greetings, thanks, requests outside the assistant's field, and asking for a person."""

from __future__ import annotations

import re

from agent.nodes.handlers.common import Handled
from agent.nodes.turn import Turn
from agent.prompts import say
from agent.state import Step

_THANKS = re.compile(r"thank|thx|\bty\b|appreciate|谢|感谢|多谢", re.IGNORECASE)


def smalltalk(step: Step, turn: Turn) -> Handled:
    key = "thanks" if _THANKS.search(step.text) else "smalltalk"
    return Handled(outcome=turn.outcome(step, "done", [say(key, turn.language)]))


def out_of_scope(step: Step, turn: Turn) -> Handled:
    return Handled(outcome=turn.outcome(step, "done", [say("out_of_scope", turn.language)]))


def handoff_human(step: Step, turn: Turn) -> Handled:
    return Handled(
        outcome=turn.outcome(step, "handoff", [say("handoff_started", turn.language)]), handoff=True
    )
