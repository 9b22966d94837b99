"""A loopback server speaking Pinecone's data-plane REST API, for tests of the Pinecone store.

Pinecone cannot be reached from tests, so this plays one serverless cosine index on 127.0.0.1:
the requests the official SDK sends (`POST /vectors/upsert`, `POST /query`,
`POST /vectors/delete` with ids or `deleteAll`, `describe_index_stats`), the `Api-Key` check
(401), Pinecone's validation of bodies (400 with a `{"code", "message"}` body), 404 for a delete
in a namespace that does not exist, exact cosine search with Pinecone's filter language, and
null metadata values stripped on write. Every request is recorded for assertions.

    with running_pinecone_server(api_key="k", dimension=384) as server:
        store = PineconeVectorStore(api_key="k", host=server.url)
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

from spotter.retrieval.metadata_filter import (
    InvalidFilter,
    InvalidMetadata,
    compile_filter,
    validate_metadata,
)

__all__ = ["PineconeServer", "RecordedRequest", "running_pinecone_server"]

MAX_UPSERT_VECTORS = 1000
MAX_DELETE_IDS = 1000
MAX_TOP_K = 10_000
MAX_ID_CHARS = 512


class BadRequest(Exception):
    """Becomes a 400, as Pinecone answers invalid bodies (gRPC code 3, INVALID_ARGUMENT)."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received: method, path, lower-cased headers, parsed JSON body (or None)."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class _Record:
    values: np.ndarray
    metadata: dict[str, Any]


@dataclass
class PineconeServer:
    """A running fake index; `url` is what the SDK takes as `host`."""

    api_key: str
    dimension: int
    port: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    namespaces: dict[str, dict[str, _Record]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        """Paths of the recorded requests, in order."""
        return [r.path for r in self.requests]

    # -- request handling (called with the lock held) ----------------------------------

    def handle(self, path: str, body: Any) -> tuple[int, Any]:
        if path == "/vectors/upsert":
            return self._upsert(body)
        if path == "/query":
            return self._query(body)
        if path == "/vectors/delete":
            return self._delete(body)
        if path == "/describe_index_stats":
            return self._stats()
        return HTTPStatus.NOT_FOUND, {"code": 5, "message": f"no route {path}", "details": []}

    def _upsert(self, body: Any) -> tuple[int, Any]:
        _expect_keys(body, required={"vectors"}, optional={"namespace"})
        namespace = _namespace(body)
        vectors = body["vectors"]
        if not isinstance(vectors, list) or not 1 <= len(vectors) <= MAX_UPSERT_VECTORS:
            raise BadRequest(f"vectors must be an array of 1 to {MAX_UPSERT_VECTORS} vectors")
        parsed: list[tuple[str, _Record]] = []
        for item in vectors:
            _expect_keys(item, required={"id", "values"}, optional={"metadata", "sparseValues"})
            if "sparseValues" in item:
                raise BadRequest("sparse values are not supported by a dense index")
            record_id = _id(item["id"])
            values = self._vector(item["values"])
            if not np.any(values):
                raise BadRequest(f"Dense vector {record_id} must contain at least one non-zero "
                                 "value")
            metadata = item.get("metadata") or {}
            if not isinstance(metadata, dict):
                raise BadRequest(f"metadata of {record_id} must be an object")
            metadata = {k: v for k, v in metadata.items() if v is not None}
            try:
                validate_metadata(metadata)
            except InvalidMetadata as error:
                raise BadRequest(f"Metadata of {record_id}: {error}") from None
            parsed.append((record_id, _Record(values, metadata)))
        records = self.namespaces.setdefault(namespace, {})
        records.update(parsed)
        return HTTPStatus.OK, {"upsertedCount": len(parsed)}

    def _query(self, body: Any) -> tuple[int, Any]:
        _expect_keys(body, required={"topK"}, optional={
            "namespace", "vector", "filter", "includeValues", "includeMetadata", "id"})
        namespace = _namespace(body)
        top_k = body["topK"]
        if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise BadRequest(f"topK must be an integer between 1 and {MAX_TOP_K}")
        if "id" in body:
            raise BadRequest("query by id is not supported by this test server")
        if "vector" not in body:
            raise BadRequest("No query provided")
        query = self._vector(body["vector"])
        include_values = _flag(body, "includeValues")
        include_metadata = _flag(body, "includeMetadata")
        try:
            predicate = compile_filter(body.get("filter"))
        except InvalidFilter as error:
            raise BadRequest(f"Invalid filter: {error}") from None
        records = self.namespaces.get(namespace, {})
        norm = float(np.linalg.norm(query))
        scored = []
        for record_id, record in records.items():
            if predicate is not None and not predicate(record.metadata):
                continue
            denominator = norm * float(np.linalg.norm(record.values))
            score = float(record.values @ query) / denominator if denominator else 0.0
            scored.append((-score, record_id, record))
        scored.sort(key=lambda item: (item[0], item[1]))
        matches = []
        for negative, record_id, record in scored[:top_k]:
            match: dict[str, Any] = {"id": record_id, "score": -negative,
                                     "values": record.values.tolist() if include_values else []}
            if include_metadata and record.metadata:
                match["metadata"] = record.metadata
            matches.append(match)
        return HTTPStatus.OK, {"matches": matches, "namespace": namespace,
                               "usage": {"readUnits": 1}}

    def _delete(self, body: Any) -> tuple[int, Any]:
        _expect_keys(body, required=set(), optional={"ids", "deleteAll", "namespace", "filter"})
        namespace = _namespace(body)
        selectors = [key for key in ("ids", "deleteAll", "filter") if key in body]
        if len(selectors) != 1:
            raise BadRequest("exactly one of ids, deleteAll or filter must be given")
        if namespace not in self.namespaces:
            return HTTPStatus.NOT_FOUND, {"code": 5, "message": "Namespace not found",
                                          "details": []}
        records = self.namespaces[namespace]
        if "ids" in body:
            ids = body["ids"]
            if not isinstance(ids, list) or not 1 <= len(ids) <= MAX_DELETE_IDS:
                raise BadRequest(f"ids must be an array of 1 to {MAX_DELETE_IDS} ids")
            for record_id in ids:
                records.pop(_id(record_id), None)
        elif "deleteAll" in body:
            if body["deleteAll"] is not True:
                raise BadRequest("deleteAll must be true")
            del self.namespaces[namespace]
        else:
            try:
                predicate = compile_filter(body["filter"])
            except InvalidFilter as error:
                raise BadRequest(f"Invalid filter: {error}") from None
            if predicate is None:
                raise BadRequest("filter must not be empty")
            for record_id in [i for i, r in records.items() if predicate(r.metadata)]:
                del records[record_id]
        return HTTPStatus.OK, {}

    def _stats(self) -> tuple[int, Any]:
        counts = {name: {"vectorCount": len(records)} for name, records in self.namespaces.items()}
        return HTTPStatus.OK, {
            "namespaces": counts, "dimension": self.dimension, "indexFullness": 0.0,
            "totalVectorCount": sum(c["vectorCount"] for c in counts.values()),
            "metric": "cosine", "vectorType": "dense",
        }

    def _vector(self, values: Any) -> np.ndarray:
        if not isinstance(values, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
            for v in values
        ):
            raise BadRequest("values must be an array of finite numbers")
        if len(values) != self.dimension:
            raise BadRequest(f"Vector dimension {len(values)} does not match the dimension of "
                             f"the index {self.dimension}")
        return np.asarray(values, dtype=np.float32)


def _expect_keys(body: Any, *, required: set[str], optional: set[str]) -> None:
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    missing = required - body.keys()
    unknown = body.keys() - required - optional
    if missing or unknown:
        raise BadRequest(f"missing fields {sorted(missing)}, unknown fields {sorted(unknown)}")


def _namespace(body: dict[str, Any]) -> str:
    namespace = body.get("namespace", "")
    if not isinstance(namespace, str):
        raise BadRequest("namespace must be a string")
    return namespace or "__default__"


def _id(value: Any) -> str:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_ID_CHARS:
        raise BadRequest(f"vector ids must be strings of 1 to {MAX_ID_CHARS} characters")
    return value


def _flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise BadRequest(f"{key} must be a boolean")
    return value


def _handler_for(server: PineconeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's pooled client expects

        def do_POST(self) -> None:
            self._serve()

        def do_GET(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:  # tests read `requests` instead
            return

        def _serve(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            path = self.path.split("?", 1)[0]
            status: int
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = None
                status, payload = HTTPStatus.BAD_REQUEST, {"code": 3, "message": "invalid JSON"}
            else:
                status, payload = self._answer(path, body)
            with server.lock:
                server.requests.append(RecordedRequest(
                    self.command, path, {k.lower(): v for k, v in self.headers.items()}, body))
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _answer(self, path: str, body: Any) -> tuple[int, Any]:
            if self.headers.get("Api-Key") != server.api_key:
                return HTTPStatus.UNAUTHORIZED, {"code": 16, "message": "Invalid API Key",
                                                 "details": []}
            if self.command == "GET" and path != "/describe_index_stats":
                return HTTPStatus.METHOD_NOT_ALLOWED, {"code": 12, "message": "not allowed"}
            try:
                with server.lock:
                    return server.handle(path, body if body is not None else {})
            except BadRequest as error:
                return HTTPStatus.BAD_REQUEST, {"code": 3, "message": str(error), "details": []}

    return Handler


@contextmanager
def running_pinecone_server(api_key: str = "test-api-key", dimension: int = 384
                            ) -> Iterator[PineconeServer]:
    """Serve a fresh, empty index on 127.0.0.1 (free port) for the duration of the block."""
    state = PineconeServer(api_key=api_key, dimension=dimension)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    httpd.daemon_threads = True
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, name="pinecone-server", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
