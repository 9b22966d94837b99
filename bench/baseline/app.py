"""The plan's stack, built competently: FastAPI + `StreamingResponse`, LangChain's
`ConversationBufferWindowMemory` per `user:conversation`, the same retrieval and offline answer.

Served like Spotter (`uvicorn app:app --loop uvloop --http httptools --no-access-log`, one
worker). Configured from BASELINE_* variables read once in the lifespan; see README.md.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import warnings
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import jwt
from cachetools import TTLCache
from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import StreamingResponse
from langchain_classic.memory import ConversationBufferWindowMemory
from pydantic import BaseModel, Field
from retrieval import KnowledgeSearch, MiniLM

# LangChain flags its memory classes as deprecated; the plan names them, so they are measured.
warnings.filterwarnings("ignore", message=".*was deprecated in LangChain")

__all__ = ["app"]

PING = b": ping\n\n"
YIELD_EVERY = 8
USER_ID = re.compile(r"^[a-z][a-z0-9_-]{0,31}:[A-Za-z0-9._@+-]{1,128}$")
FALLBACK = "I couldn't find anything about that in the knowledge base."


@dataclass(slots=True)
class Conversation:
    memory: ConversationBufferWindowMemory
    turns: int = 0


@dataclass(slots=True)
class Config:
    secret: str
    token_delay: float
    heartbeat: float
    window_exchanges: int
    top_k: int
    answers: dict[str, list[str]]


class State:
    config: Config
    embedder: MiniLM
    search: KnowledgeSearch
    executor: ThreadPoolExecutor
    conversations: TTLCache[str, Conversation]


state = State()


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    env = os.environ
    data_dir = Path(env["BASELINE_DATA_DIR"])
    namespace_file = hashlib.sha256(b"knowledge").hexdigest()[:32] + ".npz"
    state.config = Config(
        secret=env["BASELINE_AUTH_SECRET"],
        token_delay=float(env.get("BASELINE_TOKEN_DELAY_SECONDS", "0")),
        heartbeat=float(env.get("BASELINE_HEARTBEAT_SECONDS", "15")),
        window_exchanges=int(env.get("BASELINE_MEMORY_WINDOW_EXCHANGES", "3")),
        top_k=int(env.get("BASELINE_TOP_K", "4")),
        answers=json.loads(Path(env["BASELINE_ANSWERS"]).read_text()),  # noqa: ASYNC240 - start-up
    )
    state.embedder = MiniLM()
    state.embedder.embed("warm up")
    state.search = KnowledgeSearch(data_dir / "vectors" / namespace_file)
    # one thread: the model is CPU-bound, so queries queue instead of fighting for the cores
    state.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
    state.conversations = TTLCache(maxsize=100_000, ttl=float(env.get("BASELINE_MEMORY_TTL_SECONDS", "3600")))
    yield
    state.executor.shutdown(wait=False)


app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=4000, pattern=r"\S")


def authenticated_user(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise HTTPException(401, "a bearer token is required")
    try:
        claims = jwt.decode(token, state.config.secret, algorithms=["HS256"], audience="spotter",
                            issuer="spotter-web", leeway=10,
                            options={"require": ["sub", "aud", "iss", "iat", "exp"]})
    except jwt.PyJWTError as error:
        raise HTTPException(401, str(error)) from None
    sub = claims["sub"]
    if not isinstance(sub, str) or not USER_ID.fullmatch(sub) or claims["exp"] - claims["iat"] > 300:
        raise HTTPException(401, "invalid token")
    return sub


def frame(event_id: int, payload: dict[str, Any]) -> bytes:
    data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    return f"id: {event_id}\nevent: {payload['type']}\ndata: {data}\n\n".encode()


async def offline_answer(question: str) -> AsyncIterator[str]:
    """The offline coach's deltas for `question`, paced as Spotter's offline model paces them."""
    deltas = state.config.answers.get(question) or re.findall(r"\S+\s*", FALLBACK)
    delay = state.config.token_delay
    for count, delta in enumerate(deltas):
        if delay > 0 and count:
            await asyncio.sleep(delay)
        elif count % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
        yield delta


async def run_turn(key: str, message: str, queue: asyncio.Queue[bytes | None]) -> None:
    """Produce the turn's frames: retrieval, the streamed answer, then the memory commit."""
    try:
        conversation = state.conversations.get(key)
        if conversation is None:
            memory = ConversationBufferWindowMemory(k=state.config.window_exchanges, return_messages=True)
            conversation = Conversation(memory)
        history = conversation.memory.load_memory_variables({})["history"]
        queue.put_nowait(frame(1, {"type": "retrieval_start", "query": message}))
        loop = asyncio.get_running_loop()
        vector = await loop.run_in_executor(state.executor, state.embedder.embed, message)
        hits = state.search.search(vector, state.config.top_k)
        documents = [{"id": h.id, "title": h.title, "source": "knowledge", "score": round(h.score, 4)}
                     for h in hits]
        queue.put_nowait(frame(2, {"type": "documents_found", "count": len(documents), "degraded": False,
                                   "documents": documents}))
        system = "Answer from these sources:\n" + "\n".join(f"[{i + 1}] {h.title}: {h.text}"
                                                            for i, h in enumerate(hits))
        _prompt = [system, *history, message]  # what a real model would be sent
        parts: list[str] = []
        event_id = 2
        async for delta in offline_answer(message):
            parts.append(delta)
            event_id += 1
            queue.put_nowait(frame(event_id, {"type": "response", "delta": delta}))
        conversation.memory.save_context({"input": message}, {"output": "".join(parts)})
        conversation.turns += 1
        state.conversations[key] = conversation  # restarts the TTL
        queue.put_nowait(frame(event_id + 1, {"type": "done", "turn": conversation.turns,
                                              "finish_reason": "stop", "model": "offline"}))
    finally:
        queue.put_nowait(None)


async def stream(key: str, message: str, heartbeat: float) -> AsyncIterator[bytes]:
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()
    producer = asyncio.create_task(run_turn(key, message, queue))
    try:
        while True:
            try:
                item = queue.get_nowait()
            except asyncio.QueueEmpty:
                try:
                    item = await asyncio.wait_for(queue.get(), heartbeat)
                except TimeoutError:
                    yield PING
                    continue
            if item is None:
                break
            yield item
    finally:
        producer.cancel()


@app.post("/v1/chat")
async def chat(
    body: ChatRequest,
    authorization: Annotated[str, Header()],
    x_conversation_id: Annotated[UUID, Header()],
) -> StreamingResponse:
    user = authenticated_user(authorization)
    key = f"{user}:{x_conversation_id}"
    headers = {"Cache-Control": "no-cache, no-transform", "X-Accel-Buffering": "no",
               "X-Conversation-Id": str(x_conversation_id)}
    return StreamingResponse(stream(key, body.message, state.config.heartbeat),
                             media_type="text/event-stream", headers=headers)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
