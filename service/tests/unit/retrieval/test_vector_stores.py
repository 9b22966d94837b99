"""One contract for both vector stores, plus what only one of them has.

The same tests run against `LocalVectorStore` (in a temporary folder) and `PineconeVectorStore`
(the official SDK against a loopback server speaking Pinecone's REST API), so swapping
SPOTTER_VECTOR_STORE never changes what retrieval sees.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from spotter.errors import BackendUnavailable, ConfigurationError
from spotter.retrieval.local_store import LocalVectorStore
from spotter.retrieval.pinecone_store import PineconeVectorStore
from spotter.retrieval.vector_store import (
    KNOWLEDGE_NAMESPACE,
    MetadataValue,
    VectorRecord,
    VectorStore,
    workout_namespace,
)
from tests.support.pinecone_server import PineconeServer, running_pinecone_server

DIM = 4
API_KEY = "test-api-key"
ALICE = workout_namespace("alice")
BOB = workout_namespace("bob")


def vec(*values: float) -> npt.NDArray[np.float32]:
    return np.asarray(values, dtype=np.float32)


def unit(values: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return (values / np.linalg.norm(values)).astype(np.float32)


def record(record_id: str, values: npt.NDArray[np.float32],
           metadata: Mapping[str, MetadataValue] | None = None) -> VectorRecord:
    return VectorRecord(id=record_id, vector=unit(values), metadata=dict(metadata or {}))


async def ids_for(store: VectorStore, namespace: str, query: npt.NDArray[np.float32],
                  top_k: int = 10, filter: Mapping[str, object] | None = None) -> list[str]:
    return [m.id for m in await store.query(namespace, unit(query), top_k, filter)]


@pytest.fixture(scope="module")
def pinecone_server() -> Iterator[PineconeServer]:
    with running_pinecone_server(api_key=API_KEY, dimension=DIM) as server:
        yield server


@pytest.fixture(scope="module")
async def pinecone_store(pinecone_server: PineconeServer) -> AsyncIterator[PineconeVectorStore]:
    # Built once: the SDK's client takes ~0.1 s to construct.
    store = PineconeVectorStore(API_KEY, pinecone_server.url, dimension=DIM, timeout_seconds=5)
    yield store
    await store.close()


@pytest.fixture
def server(pinecone_server: PineconeServer) -> PineconeServer:
    """The module's server, emptied for this test."""
    with pinecone_server.lock:
        pinecone_server.namespaces.clear()
        pinecone_server.requests.clear()
    return pinecone_server


@pytest.fixture(params=["local", "pinecone"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> VectorStore:
    if request.param == "local":
        local: VectorStore = LocalVectorStore(tmp_path / "vectors", dimension=DIM)
        return local
    request.getfixturevalue("server")
    remote: VectorStore = request.getfixturevalue("pinecone_store")
    return remote


# -- the contract ---------------------------------------------------------------------------

async def test_query_ranks_by_cosine_best_first_and_returns_metadata(store: VectorStore) -> None:
    metadata: dict[str, MetadataValue] = {"title": "Back squat", "sets": 5, "rpe": 7.5,
                                          "barbell": True, "muscles": ["quads", "glutes"]}
    await store.upsert(KNOWLEDGE_NAMESPACE, [
        record("opposite", vec(-1, 0, 0, 0)),
        record("diagonal", vec(1, 1, 0, 0)),
        record("same", vec(2, 0, 0, 0), metadata),
        record("orthogonal", vec(0, 1, 0, 0)),
    ])
    matches = await store.query(KNOWLEDGE_NAMESPACE, unit(vec(1, 0, 0, 0)), 3)
    assert [m.id for m in matches] == ["same", "diagonal", "orthogonal"]
    assert [m.score for m in matches] == pytest.approx([1.0, 0.70710678, 0.0], abs=1e-5)
    assert dict(matches[0].metadata) == metadata
    assert isinstance(matches[0].metadata["sets"], int)
    assert dict(matches[1].metadata) == {}
    assert await ids_for(store, KNOWLEDGE_NAMESPACE, vec(1, 0, 0, 0), top_k=1) == ["same"]


async def test_query_agrees_with_brute_force_cosine(store: VectorStore) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(300, DIM)).astype(np.float32)
    await store.upsert(KNOWLEDGE_NAMESPACE,
                       [record(f"doc-{i}", v) for i, v in enumerate(vectors)])
    query = rng.normal(size=DIM).astype(np.float32)
    normalised = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    expected = [f"doc-{i}" for i in np.argsort(-(normalised @ unit(query)))[:10]]
    assert await ids_for(store, KNOWLEDGE_NAMESPACE, query, top_k=10) == expected


async def test_upsert_is_idempotent_and_replaces_by_id(store: VectorStore) -> None:
    first = record("w1", vec(1, 0, 0, 0), {"note": "old"})
    await store.upsert(ALICE, [first, record("w2", vec(0, 1, 0, 0))])
    await store.upsert(ALICE, [first])
    assert sorted(await ids_for(store, ALICE, vec(1, 1, 1, 1))) == ["w1", "w2"]

    await store.upsert(ALICE, [record("w1", vec(0, 0, 1, 0), {"note": "new"})])
    matches = await store.query(ALICE, unit(vec(0, 0, 1, 0)), 10)
    assert [m.id for m in matches] == ["w1", "w2"]
    assert matches[0].score == pytest.approx(1.0, abs=1e-5)
    assert dict(matches[0].metadata) == {"note": "new"}


FILTER_RECORDS = {
    "squat": {"kind": "exercise", "muscle": ["quads", "glutes"], "level": 2, "load": 1.5,
              "barbell": True},
    "bench": {"kind": "exercise", "muscle": ["chest", "triceps"], "level": 3, "barbell": True},
    "plank": {"kind": "exercise", "muscle": ["core"], "level": 1, "barbell": False},
    "guide": {"kind": "guide", "level": 1},
    "basics": {"kind": "guide", "level": 0, "count": 1},
}
FILTER_CASES: list[tuple[dict[str, Any], set[str]]] = [
    ({"kind": "guide"}, {"guide", "basics"}),
    ({"kind": {"$eq": "exercise"}}, {"squat", "bench", "plank"}),
    ({"kind": {"$ne": "exercise"}}, {"guide", "basics"}),
    ({"muscle": "core"}, {"plank"}),
    ({"muscle": {"$eq": "glutes"}}, {"squat"}),
    ({"muscle": {"$ne": "quads"}}, {"bench", "plank", "guide", "basics"}),
    ({"muscle": {"$in": ["chest", "core"]}}, {"bench", "plank"}),
    ({"muscle": {"$nin": ["chest", "core"]}}, {"squat", "guide", "basics"}),
    ({"level": {"$in": [1, 3]}}, {"bench", "plank", "guide"}),
    ({"level": {"$nin": [1, 3]}}, {"squat", "basics"}),
    ({"level": {"$gt": 1}}, {"squat", "bench"}),
    ({"level": {"$gte": 1}}, {"squat", "bench", "plank", "guide"}),
    ({"level": {"$lt": 1}}, {"basics"}),
    ({"level": {"$lte": 1}}, {"plank", "guide", "basics"}),
    ({"level": {"$gte": 1, "$lt": 3}}, {"squat", "plank", "guide"}),
    ({"load": {"$gt": 1.2}}, {"squat"}),
    ({"barbell": True}, {"squat", "bench"}),
    ({"barbell": {"$eq": False}}, {"plank"}),
    ({"count": True}, set()),  # booleans and numbers never compare equal
    ({"muscle": {"$exists": False}}, {"guide", "basics"}),
    ({"kind": "exercise", "barbell": True}, {"squat", "bench"}),
    ({"$and": [{"kind": "exercise"}, {"level": {"$lte": 2}}]}, {"squat", "plank"}),
    ({"$or": [{"muscle": "chest"}, {"level": 0}]}, {"bench", "basics"}),
    ({"$or": [{"$and": [{"kind": "exercise"}, {"barbell": False}]},
              {"kind": "guide", "level": {"$gt": 0}}]}, {"plank", "guide"}),
    ({"kind": "nothing"}, set()),
]


@pytest.mark.parametrize(("filter", "expected"), FILTER_CASES, ids=[json.dumps(f) for f, _ in
                                                                     FILTER_CASES])
async def test_filters_select_like_pinecone(store: VectorStore, filter: dict[str, Any],
                                            expected: set[str]) -> None:
    rng = np.random.default_rng(1)
    await store.upsert(KNOWLEDGE_NAMESPACE, [
        record(name, rng.normal(size=DIM).astype(np.float32), metadata)  # type: ignore[arg-type]
        for name, metadata in FILTER_RECORDS.items()
    ])
    found = await ids_for(store, KNOWLEDGE_NAMESPACE, vec(1, 1, 1, 1), filter=filter)
    assert set(found) == expected
    assert len(found) == len(expected)


@pytest.mark.parametrize("bad_filter", [
    {"level": {"$gt": "1"}}, {"level": {"$between": [1, 2]}}, {"$not": {"kind": "guide"}},
    {"muscle": {"$in": []}}, {"muscle": {"$in": "core"}}, {"$or": []}, {"muscle": ["core"]},
    {"kind": {"$eq": {"nested": 1}}},
], ids=json.dumps)
async def test_invalid_filters_are_rejected(store: VectorStore, bad_filter: dict[str, Any]) -> None:
    await store.upsert(KNOWLEDGE_NAMESPACE, [record("a", vec(1, 0, 0, 0))])
    with pytest.raises(ValueError, match=r"filter|field|operator|\$"):
        await store.query(KNOWLEDGE_NAMESPACE, unit(vec(1, 0, 0, 0)), 3, bad_filter)


@pytest.mark.parametrize(("bad", "message"), [
    (VectorRecord("a", vec(1, 0, 0)), "dimensions"),
    (VectorRecord("a", vec(0, 0, 0, 0)), "zero"),
    (VectorRecord("a", vec(1, float("nan"), 0, 0)), "finite"),
    (VectorRecord("", vec(1, 0, 0, 0)), "ids"),
    (VectorRecord("a", vec(1, 0, 0, 0), {"nested": {"a": 1}}), "nested"),  # type: ignore[dict-item]
    (VectorRecord("a", vec(1, 0, 0, 0), {"tags": [1, 2]}), "lists"),  # type: ignore[list-item]
    (VectorRecord("a", vec(1, 0, 0, 0), {"note": "x" * 50_000}), "limit"),
])
async def test_invalid_records_are_rejected_before_anything_changes(
        store: VectorStore, bad: VectorRecord, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await store.upsert(ALICE, [record("good", vec(1, 0, 0, 0)), bad])
    assert await ids_for(store, ALICE, vec(1, 0, 0, 0)) == []


async def test_namespaces_are_isolated(store: VectorStore) -> None:
    await store.upsert(ALICE, [record("shared-id", vec(1, 0, 0, 0), {"owner": "alice"}),
                               record("alice-only", vec(0, 1, 0, 0))])
    await store.upsert(BOB, [record("shared-id", vec(0, 0, 1, 0), {"owner": "bob"})])

    bob = await store.query(BOB, unit(vec(1, 1, 1, 1)), 10)
    assert [(m.id, dict(m.metadata)) for m in bob] == [("shared-id", {"owner": "bob"})]
    # Even a filter naming Alice cannot reach her records from Bob's namespace.
    assert await ids_for(store, BOB, vec(1, 0, 0, 0), filter={"owner": "alice"}) == []
    assert await ids_for(store, KNOWLEDGE_NAMESPACE, vec(1, 0, 0, 0)) == []
    assert sorted(await ids_for(store, ALICE, vec(1, 1, 1, 1))) == ["alice-only", "shared-id"]


async def test_delete_removes_only_the_given_ids(store: VectorStore) -> None:
    await store.upsert(ALICE, [record(f"w{i}", vec(1, i, 0, 0)) for i in range(4)])
    await store.upsert(BOB, [record("w1", vec(1, 0, 0, 0))])
    await store.delete(ALICE, ["w1", "w3", "never-existed"])
    assert sorted(await ids_for(store, ALICE, vec(1, 0, 0, 0))) == ["w0", "w2"]
    assert await ids_for(store, BOB, vec(1, 0, 0, 0)) == ["w1"]
    await store.delete(workout_namespace("nobody"), ["w1"])  # unknown namespace: no error
    await store.delete(ALICE, [])


async def test_delete_namespace_erases_one_namespace(store: VectorStore) -> None:
    await store.upsert(ALICE, [record("w1", vec(1, 0, 0, 0)), record("w2", vec(0, 1, 0, 0))])
    await store.upsert(BOB, [record("w1", vec(1, 0, 0, 0))])
    await store.delete_namespace(ALICE)
    assert await ids_for(store, ALICE, vec(1, 0, 0, 0)) == []
    assert await ids_for(store, BOB, vec(1, 0, 0, 0)) == ["w1"]
    await store.delete_namespace(ALICE)  # again, and a namespace that never existed
    await store.delete_namespace(workout_namespace("nobody"))
    await store.upsert(ALICE, [record("w3", vec(1, 0, 0, 0))])
    assert await ids_for(store, ALICE, vec(1, 0, 0, 0)) == ["w3"]


async def test_query_needs_a_positive_top_k(store: VectorStore) -> None:
    with pytest.raises(ValueError, match="top_k"):
        await store.query(ALICE, unit(vec(1, 0, 0, 0)), 0)


async def test_ping_reports_a_reachable_store(store: VectorStore) -> None:
    assert await store.ping() is True


# -- local store: persistence ---------------------------------------------------------------

async def test_local_store_reloads_what_it_wrote(tmp_path: Path) -> None:
    directory = tmp_path / "vectors"
    first = LocalVectorStore(directory, dimension=DIM)
    await first.upsert(ALICE, [record("w1", vec(1, 0, 0, 0), {"sets": 3, "tags": ["legs"]}),
                               record("w2", vec(0, 1, 0, 0))])
    await first.delete(ALICE, ["w2"])
    await first.upsert(BOB, [record("b1", vec(1, 0, 0, 0))])
    await first.delete_namespace(BOB)

    second = LocalVectorStore(directory, dimension=DIM)
    matches = await second.query(ALICE, unit(vec(1, 0, 0, 0)), 5)
    assert [(m.id, dict(m.metadata)) for m in matches] == [("w1", {"sets": 3, "tags": ["legs"]})]
    assert await ids_for(second, BOB, vec(1, 0, 0, 0)) == []
    assert len(list(directory.iterdir())) == 1  # Bob's file went with his namespace


async def test_bulk_namespace_is_written_on_flush(tmp_path: Path) -> None:
    directory = tmp_path / "vectors"
    store = LocalVectorStore(directory, dimension=DIM)
    await store.upsert(KNOWLEDGE_NAMESPACE, [record("k1", vec(1, 0, 0, 0))])
    before_flush = LocalVectorStore(directory, dimension=DIM)
    assert await ids_for(before_flush, KNOWLEDGE_NAMESPACE, vec(1, 0, 0, 0)) == []

    await store.flush()
    after_flush = LocalVectorStore(directory, dimension=DIM)
    assert await ids_for(after_flush, KNOWLEDGE_NAMESPACE, vec(1, 0, 0, 0)) == ["k1"]


async def test_a_crash_while_writing_keeps_the_previous_copy(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "vectors"
    store = LocalVectorStore(directory, dimension=DIM)
    await store.upsert(ALICE, [record("w1", vec(1, 0, 0, 0))])
    [saved] = list(directory.iterdir())
    before = saved.read_bytes()

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(BackendUnavailable, match="No space left"):
        await store.upsert(ALICE, [record("w2", vec(0, 1, 0, 0))])
    monkeypatch.undo()

    assert saved.read_bytes() == before
    assert list(directory.iterdir()) == [saved]  # the half-written temporary file is gone
    reloaded = LocalVectorStore(directory, dimension=DIM)
    assert await ids_for(reloaded, ALICE, vec(1, 1, 0, 0)) == ["w1"]
    # The failed change is still in memory and lands with the next successful write.
    await store.upsert(ALICE, [record("w3", vec(0, 0, 1, 0))])
    reloaded = LocalVectorStore(directory, dimension=DIM)
    assert sorted(await ids_for(reloaded, ALICE, vec(1, 1, 1, 0))) == ["w1", "w2", "w3"]


async def test_leftover_temporary_files_are_cleared_at_start(tmp_path: Path) -> None:
    directory = tmp_path / "vectors"
    directory.mkdir()
    (directory / ".tmp-abc.npz").write_bytes(b"half a file")
    LocalVectorStore(directory, dimension=DIM)
    assert list(directory.iterdir()) == []


async def test_unusable_directory_raises_backend_unavailable(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("x")
    with pytest.raises(BackendUnavailable):
        LocalVectorStore(not_a_directory / "vectors", dimension=DIM)


async def test_store_whose_directory_vanished_is_not_ready(tmp_path: Path) -> None:
    directory = tmp_path / "vectors"
    store = LocalVectorStore(directory, dimension=DIM)
    directory.rmdir()
    assert await store.ping() is False
    with pytest.raises(BackendUnavailable):
        await store.upsert(ALICE, [record("w1", vec(1, 0, 0, 0))])


async def test_corrupt_namespace_file_raises_backend_unavailable(tmp_path: Path) -> None:
    directory = tmp_path / "vectors"
    store = LocalVectorStore(directory, dimension=DIM)
    await store.upsert(ALICE, [record("w1", vec(1, 0, 0, 0))])
    [saved] = list(directory.iterdir())
    saved.write_bytes(b"not a zip file")
    with pytest.raises(BackendUnavailable, match="cannot read"):
        await LocalVectorStore(directory, dimension=DIM).query(ALICE, unit(vec(1, 0, 0, 0)), 1)


async def test_large_namespace_with_a_selective_filter(tmp_path: Path) -> None:
    store = LocalVectorStore(tmp_path / "vectors", dimension=DIM)
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(6000, DIM)).astype(np.float32)
    await store.upsert(KNOWLEDGE_NAMESPACE, [
        record(f"d{i}", v, {"rare": i % 1000 == 0}) for i, v in enumerate(vectors)])
    query = unit(vec(1, 2, 3, 4))
    scores = (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)) @ query
    rare = [i for i in np.argsort(-scores) if i % 1000 == 0]
    found = await ids_for(store, KNOWLEDGE_NAMESPACE, query, top_k=4, filter={"rare": True})
    assert found == [f"d{i}" for i in rare[:4]]


async def test_concurrent_upserts_all_land(tmp_path: Path) -> None:
    directory = tmp_path / "vectors"
    store = LocalVectorStore(directory, dimension=DIM)
    await asyncio.gather(*(store.upsert(ALICE, [record(f"w{i}", vec(1, i, 0, 0))])
                           for i in range(20)))
    reloaded = LocalVectorStore(directory, dimension=DIM)
    assert len(await ids_for(reloaded, ALICE, vec(1, 0, 0, 0), top_k=50)) == 20


# -- Pinecone store: wire format and failures -----------------------------------------------

async def test_pinecone_requests_match_the_data_plane_api(
        server: PineconeServer, pinecone_store: PineconeVectorStore) -> None:
    await pinecone_store.upsert(ALICE, [record(f"w{i}", vec(1, i, 0, 0)) for i in range(250)])
    await pinecone_store.query(ALICE, unit(vec(1, 0, 0, 0)), 2, {"kind": "set"})
    await pinecone_store.delete(ALICE, ["w1"])
    await pinecone_store.delete_namespace(ALICE)

    assert server.paths() == ["/vectors/upsert"] * 3 + ["/query", "/vectors/delete",
                                                       "/vectors/delete"]
    upserts = server.requests[:3]
    assert [len(r.body["vectors"]) for r in upserts] == [100, 100, 50]
    assert all(r.headers["api-key"] == API_KEY and r.body["namespace"] == ALICE
               for r in upserts)
    query = server.requests[3].body
    assert (query["namespace"], query["topK"]) == (ALICE, 2)
    assert (query["includeMetadata"], query["filter"]) == (True, {"kind": "set"})
    assert server.requests[4].body == {"namespace": ALICE, "ids": ["w1"]}
    assert server.requests[5].body == {"namespace": ALICE, "deleteAll": True}


async def test_pinecone_wrong_api_key_is_backend_unavailable(server: PineconeServer) -> None:
    store = PineconeVectorStore("wrong-key", server.url, dimension=DIM)
    try:
        with pytest.raises(BackendUnavailable, match="Invalid API Key"):
            await store.query(ALICE, unit(vec(1, 0, 0, 0)), 1)
        with pytest.raises(BackendUnavailable):
            await store.upsert(ALICE, [record("w1", vec(1, 0, 0, 0))])
        assert await store.ping() is False
    finally:
        await store.close()
    assert server.namespaces == {}


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_unreachable_pinecone_is_backend_unavailable() -> None:
    store = PineconeVectorStore(API_KEY, f"http://127.0.0.1:{_closed_port()}", dimension=DIM,
                                timeout_seconds=2)
    try:
        # Concurrently: the SDK retries a refused connection with backoff (~3 s per call).
        query, ping = await asyncio.gather(store.query(ALICE, unit(vec(1, 0, 0, 0)), 1),
                                           store.ping(), return_exceptions=True)
        assert isinstance(query, BackendUnavailable)
        assert ping is False
    finally:
        await store.close()


def test_pinecone_store_needs_key_and_host() -> None:
    with pytest.raises(ConfigurationError):
        PineconeVectorStore("", "http://127.0.0.1:1")
    with pytest.raises(ConfigurationError):
        PineconeVectorStore(API_KEY, "")


def _post(server: PineconeServer, path: str, body: object, key: str | None = API_KEY
          ) -> tuple[int, dict[str, Any]]:
    headers = {"Api-Key": key} if key else {}
    response = httpx.post(server.url + path, json=body, headers=headers, timeout=5)
    return response.status_code, response.json()


@pytest.mark.parametrize(("path", "body"), [
    ("/vectors/upsert", {"vectors": [{"id": "a", "values": [1, 0, 0]}]}),
    ("/vectors/upsert", {"vectors": [{"id": "a", "values": [0, 0, 0, 0]}]}),
    ("/vectors/upsert", {"vectors": [{"id": "", "values": [1, 0, 0, 0]}]}),
    ("/vectors/upsert", {"vectors": [{"id": "a", "values": [1, 0, 0, 0], "metadata": {"m": {}}}]}),
    ("/vectors/upsert", {"vectors": [{"id": "a", "values": [1, 0, 0, 0], "extra": 1}]}),
    ("/vectors/upsert", {"vectors": []}),
    ("/query", {"topK": 0, "vector": [1, 0, 0, 0]}),
    ("/query", {"topK": 1, "vector": [1, 0, 0, 0], "filter": {"a": {"$gt": "x"}}}),
    ("/query", {"topK": 1}),
    ("/vectors/delete", {"namespace": "n"}),
], ids=lambda value: json.dumps(value)[:60])
def test_loopback_server_rejects_what_pinecone_rejects(
        server: PineconeServer, path: str, body: dict[str, Any]) -> None:
    _post(server, "/vectors/upsert", {"namespace": "n", "vectors": [
        {"id": "seed", "values": [1, 0, 0, 0]}]})
    status, answer = _post(server, path, body)
    assert status == 400, answer
    assert answer["code"] == 3
    assert answer["message"]


def test_loopback_server_requires_the_api_key(server: PineconeServer) -> None:
    assert _post(server, "/query", {"topK": 1, "vector": [1, 0, 0, 0]}, key=None)[0] == 401
    assert _post(server, "/query", {"topK": 1, "vector": [1, 0, 0, 0]}, key="nope")[0] == 401
    status, answer = _post(server, "/query", {"topK": 1, "vector": [1, 0, 0, 0]})
    assert (status, answer["matches"]) == (200, [])
