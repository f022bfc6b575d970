"""The last node of a turn: one reply from the steps' outcomes, grounded in tool facts.

Without an LLM the reply is the templates' text. With one, the LLM rephrases that text
using only the facts; its stream is checked word by word (``agent.grounding``) and the
first ungrounded word, an error or a wrong language abandons it for the template, with a
``reset`` event so clients drop what they showed.
"""

from __future__ import annotations

import logging
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from agent.deps import AgentDeps, ChatContext
from agent.grounding import Allowed, StreamingCheck, Ungrounded
from agent.nodes.guard import last_human_text
from agent.nodes.turn import emit
from agent.prompts import RESPONDER_SYSTEM, Language, say
from agent.state import AgentState, Outcome
from model_servers.llm.client import LLMError

logger = logging.getLogger(__name__)

#: Product cards kept for "the second one" / "这件".
SHOWN_LIMIT = 20


def template_reply(outcomes: list[Outcome], language: Language) -> str:
    lines = [line for outcome in outcomes for line in outcome.lines] or [say("nothing", language)]
    return ("" if language == "zh" else " ").join(lines)


async def phrase(
    deps: AgentDeps, template: str, facts: list[str], user_text: str, language: Language
) -> tuple[str, list[str]]:
    """The LLM's wording streamed as it passes the check; the problems when it had to be abandoned."""
    assert deps.llm is not None
    allowed = Allowed.from_texts([*facts, template, user_text])
    check = StreamingCheck(allowed, language)
    facts_text = "\n".join(f"- {fact}" for fact in facts) or "- (none)"
    messages = [
        {
            "role": "system",
            "content": RESPONDER_SYSTEM.format(language_name="Chinese" if language == "zh" else "English"),
        },
        {"role": "user", "content": f"FACTS:\n{facts_text}\n\nDRAFT: {template}"},
    ]
    try:
        async for delta in deps.llm.stream(messages, max_tokens=deps.llm_settings.max_tokens):
            safe = check.feed(delta)
            if safe:
                emit({"event": "token", "text": safe})
        rest = check.finish()
        if rest:
            emit({"event": "token", "text": rest})
        return check.released.strip(), []
    except Ungrounded as exc:
        problems = exc.problems
    except LLMError as exc:
        problems = [f"LLM unavailable: {exc}"]
    logger.info("LLM reply abandoned for the template", extra={"problems": problems[:5]})
    if check.released:
        emit({"event": "reset"})
    return "", problems


def make_respond(deps: AgentDeps) -> Any:
    async def respond(state: AgentState, runtime: Runtime[ChatContext]) -> dict[str, Any]:
        language: Language = state.get("language", "en")
        outcomes = [Outcome.model_validate(o) for o in state.get("outcomes", [])]
        template = template_reply(outcomes, language)
        facts = [fact for outcome in outcomes for fact in outcome.facts]
        cards = [card for outcome in outcomes for card in outcome.cards]
        text, source, problems = "", "template", list[str]()
        if deps.llm is not None and not any(o.status == "handoff" for o in outcomes):
            text, problems = await phrase(deps, template, facts, last_human_text(state), language)
            source = "llm" if text else "template"
        if not text:
            text = template
            emit({"event": "token", "text": text})
        for card in cards:
            emit({"event": "card", "card": card})
        reply = AIMessage(
            content=text,
            additional_kwargs={
                "source": source,
                "cards": cards,
                "intents": [o.intent.value for o in outcomes],
                "grounding_problems": problems,
            },
        )
        products = [c for c in cards if c.get("kind") == "product"]
        shown = [*state.get("shown", []), *products][-SHOWN_LIMIT:]
        return {"messages": [reply], "shown": shown}

    return respond
