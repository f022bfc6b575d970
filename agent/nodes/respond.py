"""The last node of a turn: one reply from the steps' outcomes, grounded in tool facts.

Without an LLM the reply is the templates' text. With one, the LLM rephrases that text
using only the facts; its stream is checked word by word (``agent.grounding``) and the
first ungrounded word, an error or a wrong language abandons it for the template, with a
``reset`` event so clients drop what they showed.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from agent.deps import AgentDeps, ChatContext, context_of
from agent.grounding import Allowed, StreamingCheck, Ungrounded
from agent.nodes.guard import last_human_text
from agent.nodes.handlers.shopping import alert_notices
from agent.nodes.turn import emit
from agent.prompts import RESPONDER_SYSTEM, Language, say
from agent.state import AgentState, Outcome
from model_servers.llm.client import LLMError

logger = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|[。！？]")

#: Outcomes the LLM may reword. A question the person must answer, a confirmation of exact values
#: and a handoff notice go out as written: SmolLM2 dropped such questions in trials.
PHRASED = frozenset({"done", "unavailable", "failed"})

#: Product cards kept for "the second one" / "这件".
SHOWN_LIMIT = 20


class _EchoedLabel:
    """Small models echo the prompt's label ("Reply: ..."); drop it from the start of the stream."""

    _LABELS = ("reply:", "draft:", "rewritten reply:", "answer:")

    def __init__(self) -> None:
        self._head: str | None = ""

    def strip(self, delta: str, *, final: bool = False) -> str:
        if self._head is None:
            return delta
        self._head += delta
        head = self._head.lstrip()
        if not final and any(label.startswith(head.lower()) for label in self._LABELS) and len(head) < 20:
            return ""  # could still become a label: wait for more
        for label in self._LABELS:
            if head.lower().startswith(label):
                head = head[len(label) :].lstrip()
                break
        self._head = None
        return head


def template_reply(outcomes: list[Outcome], language: Language) -> str:
    lines = [line for outcome in outcomes for line in outcome.lines] or [say("nothing", language)]
    return ("" if language == "zh" else " ").join(lines)


async def phrase(
    deps: AgentDeps, template: str, facts: list[str], user_text: str, language: Language
) -> tuple[str, list[str]]:
    """The LLM's wording streamed as it passes the check; the problems when it had to be abandoned."""
    assert deps.llm is not None
    allowed = Allowed.from_texts([*facts, template, user_text])
    check = StreamingCheck(allowed, language, draft=template)
    # The system prompt never changes, so llama.cpp reuses its cached prefix and only the short
    # user part is evaluated before the first token; facts already in the draft are not repeated.
    extra = [fact for fact in facts if fact not in template]
    facts_text = "".join(f"- {fact}\n" for fact in extra)
    content = f"Facts:\n{facts_text}\nReply: {template}" if extra else f"Reply: {template}"
    messages = [
        {"role": "system", "content": RESPONDER_SYSTEM},
        {"role": "user", "content": content},
    ]
    labels = _EchoedLabel()
    # Small models ramble: stop reading once the rewrite has one sentence more than the draft.
    most_sentences = len(_SENTENCE_END.findall(template)) + 1
    cut = False
    try:
        stream = deps.llm.stream(messages, max_tokens=deps.llm_settings.max_tokens)
        async for delta in stream:
            safe = check.feed(labels.strip(delta))
            if safe:
                emit({"event": "token", "text": safe})
            if len(_SENTENCE_END.findall(check.released)) >= most_sentences:
                closer = getattr(stream, "aclose", None)  # ends the request, so the server stops too
                if closer is not None:
                    await closer()
                cut = True
                break
        rest = "" if cut else check.feed(labels.strip("", final=True))
        rest += check.finish(keep_rest=not cut)
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
        context = context_of(runtime.context, deps.default_user_id)
        notice = await asyncio.to_thread(alert_notices, deps, context, language)
        if notice is not None:
            outcomes.insert(0, notice)
        template = template_reply(outcomes, language)
        facts = [fact for outcome in outcomes for fact in outcome.facts]
        cards = [card for outcome in outcomes for card in outcome.cards]
        text, source, problems = "", "template", list[str]()
        attempted = deps.llm is not None and bool(outcomes) and all(o.status in PHRASED for o in outcomes)
        if attempted:
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
                "tools": [call.model_dump(mode="json") for o in outcomes for call in o.calls],
                "grounding_problems": problems,
                "llm_attempted": attempted,
            },
        )
        products = [c for c in cards if c.get("kind") == "product"]
        # "the second one" means the second of the latest results, so new results replace the old
        shown = products[:SHOWN_LIMIT] if products else state.get("shown", [])
        return {"messages": [reply], "shown": shown}

    return respond
