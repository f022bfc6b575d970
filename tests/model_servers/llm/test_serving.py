"""The engine's generation loop: stop sequences, cancellation, schemas it cannot enforce."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import pytest

from model_servers.llm.protocol import ChatCompletionRequest
from tests.model_servers.llm.conftest import MODEL

if TYPE_CHECKING:
    from model_servers.llm.serving import LlamaEngine

pytestmark = pytest.mark.unit

QUESTION = [{"role": "user", "content": "Describe a summer outfit."}]


def test_held_back_text_is_what_could_start_a_stop_sequence() -> None:
    pytest.importorskip("llama_cpp")
    from model_servers.llm.serving import _first_stop, _held_back

    assert _held_back("Hello wor", ["world"]) == 3
    assert _held_back("Hello", ["world", "lo!"]) == 2
    assert _held_back("Hello", []) == 0
    assert _held_back("Hello w", ["xyz"]) == 0
    assert _first_stop("a STOP b END", ["END", "STOP"]) == 2
    assert _first_stop("abc", ["x"]) is None


def test_chat_template_comes_from_the_gguf(engine: LlamaEngine) -> None:
    prompt = engine.tokenize_chat([{"role": "user", "content": "hi"}])
    text = engine._llama.detokenize(prompt, special=True).decode()
    # SmolLM2's template (ChatML) adds its default system prompt when there is none.
    assert text.startswith("<|im_start|>system\n")
    assert text.endswith("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n")


def test_abandoned_stream_frees_the_model_at_once(engine: LlamaEngine) -> None:
    from model_servers.llm.serving import SamplingParams, TextDelta

    prompt = engine.tokenize_chat(QUESTION)

    async def go() -> float:
        long_run = engine.stream(prompt, SamplingParams(max_tokens=400))
        async for event in long_run:
            assert isinstance(event, TextDelta)
            break
        await long_run.aclose()  # what Starlette does when the client disconnects
        started = time.perf_counter()
        events = [event async for event in engine.stream(prompt, SamplingParams(max_tokens=3))]
        assert len([event for event in events if isinstance(event, TextDelta)]) >= 1
        return time.perf_counter() - started

    # 400 tokens would take ~30 s on 2 cores; the next request must not wait for them.
    assert asyncio.run(go()) < 5


def test_schema_that_cannot_become_a_grammar_is_a_400() -> None:
    pytest.importorskip("llama_cpp")
    from model_servers.llm.serving import ServingError, grammar_for

    request = ChatCompletionRequest.model_validate(
        {
            "model": MODEL,
            "messages": QUESTION,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"$ref": "https://example.com/remote.json"}},
            },
        }
    )
    with pytest.raises(ServingError) as error:
        grammar_for(request)
    assert error.value.status_code == 400
    assert error.value.param == "response_format"
