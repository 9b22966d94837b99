"""The Python heap gauge: it must follow live objects both ways, or the soak's leak check is blind."""

from __future__ import annotations

from spotter.metrics import Metrics, python_heap


async def blocks() -> float:
    return (await python_heap())["allocated_blocks"]


async def test_the_heap_gauge_rises_with_live_objects_and_falls_when_they_are_freed() -> None:
    before = await blocks()
    held = [object() for _ in range(100_000)]
    assert await blocks() - before >= 100_000
    del held
    assert await blocks() - before < 10_000


async def test_the_heap_gauge_is_exported_with_the_other_sampled_gauges() -> None:
    metrics = Metrics()
    metrics.sample("spotter_python", "Python heap of this process", python_heap)
    lines = (await metrics.render()).splitlines()
    value = next(line for line in lines if line.startswith("spotter_python_allocated_blocks "))
    assert float(value.split()[1]) > 0
