"""The running service ranks a catalogue ingested with `spotter ingest` the way the evaluation
measures it: BM25 and the knowledge bridge cover the ingested records, not only similarity.

The data directory comes from `catalogue_index`: the shared knowledge index plus the public
free-exercise-db catalogue, ingested by the real `python -m spotter ingest ... --format
free-exercise-db` with SPOTTER_DATA_DIR set, before the service starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat

# Questions from tests/data/retrieval_eval/free_exercise_db_questions.yaml that the evaluation
# already ranks first among the catalogue records (tuning, held-out and new ones alike), so
# this checks the wiring of the running service, not ranking quality: before the records were
# indexed lexically and bridged, the service found the expected record for 4 of 101 questions.
# (A dumbbell bench press question was swapped for the Arnold press one when records gained
# everyday descriptions: that record fell from first to fourth, behind near-twins whose
# descriptions share the question's words; docs/retrieval.md counts such losses.)
CATALOGUE_QUESTIONS = {
    "Squatting down while hugging a kettlebell by its horns against my chest":
        "fedb-Goblet_Squat",
    "Pulling a rope from a high cable towards my forehead while spreading my hands apart, "
    "for rear delts": "fedb-Face_Pull",
    "On my back with arms pointing at the ceiling and knees bent at ninety degrees, slowly "
    "lowering the opposite arm and leg": "fedb-Dead_Bug",
    "Cheap cardio where I turn a cord over my head and hop over it": "fedb-Rope_Jumping",
    "One knee and one hand on a bench, pulling a single dumbbell up towards my hip":
        "fedb-One-Arm_Dumbbell_Row",
    "Hanging underneath a bar set at waist height with my heels on the floor and pulling my "
    "chest up to it": "fedb-Inverted_Row",
    "Seated overhead push with two hand weights where my palms start facing me and rotate "
    "outwards on the way up": "fedb-Arnold_Dumbbell_Press",
    "Low-impact cardio machine where my feet glide in ovals on pedals while I push and pull "
    "handles": "fedb-Elliptical_Trainer",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalogue_service(
    catalogue_index: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    """The offline service on a copy of the data directory holding the ingested catalogue."""
    with ServiceProcess(tmp_path_factory.mktemp("catalogue-service"),
                        seed_index=catalogue_index) as service:  # fmt: skip
        yield service


def found_ids(service: ServiceProcess, question: str) -> list[str]:
    result = Chat(service.url).send(question)
    (found,) = [e for e in result.events if e.event == "documents_found"]
    assert not found.data["degraded"]
    return [d["id"] for d in found.data["documents"]]


@pytest.mark.parametrize("question", CATALOGUE_QUESTIONS)
def test_catalogue_questions_find_their_record(
    catalogue_service: ServiceProcess, question: str
) -> None:
    ids = found_ids(catalogue_service, question)
    assert CATALOGUE_QUESTIONS[question] in ids, ids
    assert any(not i.startswith("fedb-") for i in ids), "knowledge entries keep their share"


def test_a_guide_question_is_answered_from_the_knowledge_base_alone(
    catalogue_service: ServiceProcess,
) -> None:
    ids = found_ids(catalogue_service, "How much sleep do I need to recover from training?")
    assert ids and not any(i.startswith("fedb-") for i in ids), ids
