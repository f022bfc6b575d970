"""``python -m agent``: the agent without the API server.

``route --jsonl FILE``: route utterances offline, one JSON line out per line in, so
evaluators and other tools see what the router makes of a message (intent, confidence,
slots) without starting any server.

``chat``: talk to the whole agent in a terminal, on the embedded stores, as a local
account and without signing in; for trying the agent out and for demos.

``voice --wav IN --out OUT.wav``: the same, spoken: one turn from a recording, the reply as WAV.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import ValidationError

from agent.guard import check_message
from agent.router import default_classifier, iter_jsonl_texts
from agent.slots import extract_slots

if TYPE_CHECKING:
    from agent.service import ChatEvent, ChatService
    from core.config import Settings
    from tools.profile.schemas import UserRead

logger = logging.getLogger(__name__)

#: ``--llm settings`` keeps whatever ``IK_LLM__PROVIDER`` says; the others override it.
LLM_CHOICES = ("settings", "none", "embedded")
PROMPT = "you › "
COMMANDS_HELP = "/new starts a new conversation, /quit (or end of input) leaves"


def route_line(text: str) -> dict[str, Any]:
    routed = default_classifier().route(text)
    result: dict[str, Any] = {
        "text": text,
        "intent": routed[0].intent.value,
        "confidence": routed[0].confidence,
        "slots": extract_slots(text).model_dump(mode="json", exclude_defaults=True),
    }
    if len(routed) > 1:
        result["intents"] = [
            {"intent": r.intent.value, "confidence": r.confidence, "text": r.text} for r in routed
        ]
    verdict = check_message(text)
    if not verdict.allowed:
        # The agent would answer with the guard's reply and never route; shown for evaluators.
        result["guard"] = {"allowed": False, "kind": verdict.kind, "reply": verdict.reply}
    return result


def _route(source: TextIO, sink: TextIO) -> int:
    try:
        for text in iter_jsonl_texts(source):
            sink.write(json.dumps(route_line(text), ensure_ascii=False) + "\n")
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    return 0


# --- chat -------------------------------------------------------------------------------------


def describe_card(card: dict[str, Any]) -> str:
    """One line for a product or image card. The card kinds are still being designed, so the
    usual fields are shown when present, and the raw card when none is."""
    title = next((str(card[k]) for k in ("title", "name", "product_name", "caption") if card.get(k)), "")
    price = card.get("price")
    if isinstance(price, dict):
        price = " ".join(str(price[k]) for k in ("amount", "value", "currency") if price.get(k) is not None)
    elif price is not None and card.get("currency"):
        price = f"{price} {card['currency']}"
    details = [str(price)] if price not in (None, "") else []
    details += [f"{key} {card[key]}" for key in ("size", "colour", "color") if card.get(key)]
    link = next((str(card[k]) for k in ("url", "image_url", "image", "path") if card.get(k)), "")
    shown = [part for part in (title, *details, link) if part] or [json.dumps(card, ensure_ascii=False)]
    return f"[{card.get('kind') or 'card'}] " + " · ".join(shown)


class Transcript:
    """Writes a turn's ``ChatEvent``s the way the terminal shows them: reply tokens as they
    stream, each tool call on its own line, cards as lines, notes in parentheses."""

    def __init__(self, sink: TextIO) -> None:
        self.sink = sink
        self.session_id: str | None = None
        #: Reply text printed since the last message (or reset); a message nobody streamed
        #: (a guard refusal, a support reply) is printed whole.
        self.streamed = ""
        self._mid_line = False
        self._tool: str | None = None

    def write(self, text: str) -> None:
        if text:
            self.sink.write(text)
            self._mid_line = not text.endswith("\n")
            self.sink.flush()

    def end_line(self) -> None:
        if self._mid_line:
            self.write("\n")
        self._tool = None

    def line(self, text: str) -> None:
        self.end_line()
        self.write(text + "\n")

    def note(self, text: str) -> None:
        self.line(f"  ({text})")

    def new_conversation(self) -> None:
        self.session_id = None
        self.note("new conversation")

    def show(self, event: ChatEvent) -> None:
        data: dict[str, Any] = event.data
        handler: Callable[[dict[str, Any]], None] | None = getattr(self, f"_on_{event.event}", None)
        if handler is not None:
            handler(data)

    def _on_session(self, data: dict[str, Any]) -> None:
        session_id = str(data["session_id"])
        if session_id == self.session_id:
            return
        if data.get("replaces"):
            self.note(f"session {data['replaces']} had expired; new session {session_id}")
        else:
            self.note(f"session {session_id}")
        self.session_id = session_id

    def _on_tool_started(self, data: dict[str, Any]) -> None:
        self.end_line()
        self._tool = str(data["tool"])
        self.write(f"  · {self._tool}")

    def _on_tool_finished(self, data: dict[str, Any]) -> None:
        mark = "✓" if data.get("ok") else f"✗ {data.get('error') or 'failed'}"
        if self._tool == data["tool"]:
            self.write(f" {mark}\n")
            self._tool = None
        else:
            self.line(f"  · {data['tool']} {mark}")

    def _on_token(self, data: dict[str, Any]) -> None:
        text = str(data.get("text", ""))
        if not self.streamed:
            self.end_line()
            self.write("assistant › ")
        self.streamed += text
        self.write(text)

    def _on_reset(self, data: dict[str, Any]) -> None:
        # The LLM's wording failed the fact check after part of it was shown; the checked
        # template reply streams next.
        self.end_line()
        self.note("the model's wording did not pass the fact check; the checked reply follows")
        self.streamed = ""

    def _on_card(self, data: dict[str, Any]) -> None:
        card = data.get("card")
        self.line(f"  ▸ {describe_card(card if isinstance(card, dict) else {'card': card})}")

    def _on_message(self, data: dict[str, Any]) -> None:
        if data.get("role") == "support":
            self.line(f"support › {data.get('text', '')}")
        elif not self.streamed:
            self.line(f"assistant › {data.get('text', '')}")
            for card in data.get("cards") or []:
                self._on_card({"card": card})
        self.end_line()
        self.streamed = ""

    def _on_handoff(self, data: dict[str, Any]) -> None:
        if data.get("active") and data.get("waiting_for_support"):
            self.note("a person from support has this conversation; your messages wait for them")
        elif not data.get("active"):
            self.note("back with the assistant")

    def _on_error(self, data: dict[str, Any]) -> None:
        self.note(f"error: {data.get('message') or data}")

    def _on_done(self, data: dict[str, Any]) -> None:
        self.end_line()


async def _next_line(source: TextIO, prompt: str | None) -> str | None:
    """The next line without its newline, or ``None`` at end of input.

    Read in a daemon thread (one per line): the event loop keeps running (the embedded LLM
    server's log pipe must be drained), and a Ctrl-C while waiting does not leave a worker
    thread that would hold the process until Enter is pressed.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[str | None] = loop.create_future()

    def settle(value: str | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(value)

    def read() -> None:
        value: str | None = None
        error: BaseException | None = None
        try:
            if prompt is not None:
                value = input(prompt)  # line editing, and the prompt, on a terminal
            else:
                line = source.readline()
                value = line.rstrip("\r\n") if line else None
        except EOFError:
            value = None
        except BaseException as exc:  # handed to the waiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is gone (Ctrl-C)
            loop.call_soon_threadsafe(settle, value, error)

    threading.Thread(target=read, name="chat-stdin", daemon=True).start()
    return await future


async def converse(
    service: ChatService,
    user_id: str,
    session_id: str | None,
    source: TextIO,
    sink: TextIO,
    *,
    interactive: bool,
) -> int:
    """The read–reply loop; returns 1 if a turn failed, else 0."""
    from agent.service import SessionNotFound

    transcript = Transcript(sink)
    transcript.session_id = session_id
    failed = False
    while True:
        prompt = PROMPT if interactive and source is sys.stdin else None
        if interactive and prompt is None:
            transcript.write(PROMPT)
        text = await _next_line(source, prompt)
        if text is None:
            if interactive:
                transcript.write("\n")
            break
        if not text.strip():
            continue
        if not interactive:
            transcript.line(f"{PROMPT}{text}")  # a piped conversation reads as a transcript
        command = text.strip().lower()
        if command in ("/quit", "/exit"):
            break
        if command == "/new":
            session_id = None
            transcript.new_conversation()
            continue
        if command == "/help":
            transcript.note(COMMANDS_HELP)
            continue
        try:
            async for event in service.turn(user_id, text, session_id=session_id):
                transcript.show(event)
                if event.event == "session":
                    session_id = str(event.data["session_id"])
        except SessionNotFound:
            transcript.note("that session is gone; starting a new conversation")
            session_id = None
            transcript.session_id = None
        except Exception as exc:  # one failed turn should not end the conversation
            logger.exception("chat turn failed")
            transcript.note(f"the turn failed: {type(exc).__name__}: {exc}")
            failed = True
    return 1 if failed else 0


class _SetupError(Exception):
    """The local agent could not start; the message is for the terminal, the code for the shell."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _local_settings(args: argparse.Namespace) -> Settings:
    from core.config import Settings

    try:
        settings = Settings()
    except ValidationError as exc:
        raise _SetupError(f"invalid settings:\n{exc}", 2) from None
    if settings.environment not in ("development", "test"):
        raise _SetupError(
            "the terminal chat acts for an account without signing in, so it runs only with "
            f"IK_ENVIRONMENT=development or test (it is {settings.environment})",
            2,
        )
    if args.llm != "settings":
        settings = settings.model_copy(update={"llm": settings.llm.model_copy(update={"provider": args.llm})})
    return settings


@contextlib.asynccontextmanager
async def _local_agent(
    settings: Settings, args: argparse.Namespace, sink: TextIO
) -> AsyncIterator[tuple[ChatService, UserRead]]:
    """The whole agent on the embedded stores, acting for a local account (``chat`` and ``voice``)."""
    from agent.langgraph_app import LOCAL_USER_EMAIL, ensure_local_account
    from agent.runtime import open_agent
    from agent.service import SessionNotFound
    from model_servers.llm.client import LLMError
    from storage.stores import build_stores
    from tools.catalog.runtime import CatalogBackground, open_catalog
    from tools.imagegen.runtime import open_imagegen
    from tools.profile.service import AccountService, ProfileService
    from tools.recommend.runtime import open_recommender
    from tools.registry import ToolServices
    from tools.sizing.runtime import open_sizing
    from tools.wardrobe.runtime import open_wardrobe

    stores = await asyncio.to_thread(build_stores, settings)
    background: CatalogBackground | None = None
    try:
        accounts = AccountService(stores.db)
        user = await asyncio.to_thread(ensure_local_account, accounts, args.user or LOCAL_USER_EMAIL)
        catalog = await asyncio.to_thread(open_catalog, settings, stores)
        background = CatalogBackground(catalog, stores, settings)
        background.start()
        sizing = await asyncio.to_thread(open_sizing, settings, stores.db)
        profiles = ProfileService(stores.db)
        recommend = await asyncio.to_thread(open_recommender, settings, stores, catalog, profiles, sizing)
        wardrobe, uploads = await asyncio.to_thread(open_wardrobe, settings, stores)
        services = ToolServices(
            accounts=accounts,
            profiles=profiles,
            catalog=catalog,
            sizing=sizing,
            recommend=recommend,
            wardrobe=wardrobe,
            uploads=uploads,
            imagegen=open_imagegen(settings, stores, catalog.catalog, wardrobe),
        )
        if settings.llm.provider == "embedded":
            sink.write("  (starting the embedded LLM server…)\n")
            sink.flush()
        try:
            async with open_agent(settings, stores.db, services) as service:
                if args.session:
                    try:
                        await service.owned(user.id, args.session)
                    except SessionNotFound:
                        raise _SetupError(f"{user.email} has no session {args.session}", 2) from None
                yield service, user
        except LLMError as exc:  # turns catch their own errors, so this is the LLM failing to start
            raise _SetupError(f"the LLM is not available: {exc}", 1) from None
    finally:
        if background is not None:
            await asyncio.to_thread(background.stop)
        await asyncio.to_thread(stores.close)


def _replies_by(settings: Settings) -> str:
    return {
        "none": "template replies",
        "embedded": f"{settings.llm.model} (embedded)",
        "openai": f"{settings.llm.model} at {settings.llm.base_url}",
    }[settings.llm.provider]


async def _chat(args: argparse.Namespace, source: TextIO, sink: TextIO) -> int:
    try:
        settings = _local_settings(args)
        async with _local_agent(settings, args, sink) as (service, user):
            sink.write(f"Innovation-kun · {user.email} · {_replies_by(settings)} · {COMMANDS_HELP}\n")
            sink.flush()
            interactive = source.isatty()
            return await converse(service, user.id, args.session, source, sink, interactive=interactive)
    except _SetupError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.code


def chat(args: argparse.Namespace, source: TextIO, sink: TextIO) -> int:
    # Like ``make run``: a local tool on the embedded stores, so development unless told otherwise.
    os.environ.setdefault("IK_ENVIRONMENT", "development")
    if source is sys.stdin and source.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for input()
    try:
        return asyncio.run(_chat(args, source, sink))
    except KeyboardInterrupt:
        sink.write("\n")
        return 130


async def _voice(args: argparse.Namespace, sink: TextIO) -> int:
    from agent.voice.cli import speak_turn

    try:
        settings = _local_settings(args)
        async with _local_agent(settings, args, sink) as (service, user):
            return await speak_turn(service, user.id, settings, args, sink)
    except _SetupError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.code


def voice(args: argparse.Namespace, sink: TextIO) -> int:
    os.environ.setdefault("IK_ENVIRONMENT", "development")
    try:
        return asyncio.run(_voice(args, sink))
    except KeyboardInterrupt:
        return 130


def main(argv: list[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    source, sink = stdin or sys.stdin, stdout or sys.stdout
    parser = argparse.ArgumentParser(prog="python -m agent", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    route = commands.add_parser("route", help="route JSON lines {'text': ...} and print intents and slots")
    route.add_argument("--jsonl", required=True, help="input file, or - for standard input")
    talk = commands.add_parser(
        "chat", help="chat with the agent in the terminal (embedded stores, a local account)"
    )
    talk.add_argument(
        "--llm",
        choices=LLM_CHOICES,
        default="settings",
        help="who words the replies: templates (none), SmolLM2 (embedded), or IK_LLM__PROVIDER (settings)",
    )
    talk.add_argument(
        "--user",
        metavar="EMAIL",
        help="whose data the agent uses, created on first use (default: the local account you@localhost)",
    )
    talk.add_argument("--session", metavar="ID", help="resume this conversation")
    spoken = commands.add_parser(
        "voice",
        help="one spoken turn: a recording in (WAV, or Opus/WebM/MP3/FLAC), the spoken reply out as WAV",
    )
    spoken.add_argument("--wav", required=True, metavar="IN", help="what the person says")
    spoken.add_argument("--out", required=True, metavar="OUT.wav", help="where the spoken reply is written")
    spoken.add_argument(
        "--locale", choices=["en", "zh"], default=None, help="the language spoken (default en)"
    )
    spoken.add_argument("--llm", choices=LLM_CHOICES, default="settings", help="as for chat")
    spoken.add_argument("--user", metavar="EMAIL", help="as for chat")
    spoken.add_argument("--session", metavar="ID", help="continue this conversation")
    args = parser.parse_args(argv)
    if args.command == "route":
        if args.jsonl == "-":
            return _route(source, sink)
        try:
            with open(args.jsonl, encoding="utf-8") as file:
                return _route(file, sink)
        except OSError as exc:
            sys.stderr.write(f"error: cannot read {args.jsonl}: {exc.strerror}\n")
            return 2
    if args.command == "chat":
        return chat(args, source, sink)
    if args.command == "voice":
        return voice(args, sink)
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
