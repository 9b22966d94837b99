"""Spotter's benchmarks against the stack it replaces (FastAPI + LangChain memory), run side by side.

`python -m bench.run` measures both servers in one run and writes docs/benchmarks.md;
`python -m bench.run --smoke` is the few-second version `make test` runs.
"""
