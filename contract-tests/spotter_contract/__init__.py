"""Spotter's contract-test kit: the rules JSON Schema cannot say, the schemathesis wiring, the spec differ.

Everything here reads the hand-written spec (`openapi/openapi.yaml`), never the service's own
models, so a service that drifts from the spec fails these tests.
"""

__all__: list[str] = []
