"""Times the baseline's query embedding and prints its vectors, so the run can check that both
servers pay for the same model (Spotter's side: `bench/retrieval_cost.py`).

Run with the baseline venv's Python: `python bench/baseline/embed_cost.py QUESTION...`.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from retrieval import MiniLM

__all__ = ["main"]


def main() -> None:
    questions = sys.argv[1:]
    model = MiniLM()
    model.embed("warm up")
    timings: list[float] = []
    vectors = []
    for _ in range(3):
        for question in questions:
            started = time.perf_counter()
            model.embed(question)
            timings.append(time.perf_counter() - started)
        vectors = [model.embed(q).tolist() for q in questions]
    print(json.dumps({"embed_ms_p50": round(statistics.median(timings) * 1000, 2), "vectors": vectors}))


if __name__ == "__main__":
    main()
