"""Schemathesis against the real service: every operation, positive and negative, stateful links.

Every built-in check is on, plus Spotter's stream/problem check; the run must have no failure and
must have validated at least `MIN_COMPLETE_STREAMS` complete 200 streams event by event.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import hypothesis
import pytest
import schemathesis
from spotter_contract.case_hooks import install_case_hooks
from spotter_contract.contract_schema import load_contract_schema
from spotter_contract.known_bugs import checks_excluded_for
from spotter_contract.tally import TALLY
from spotter_contract.target import CREDENTIALS, SERVER, SMOKE, ContractTarget

MIN_COMPLETE_STREAMS = 50
HYPOTHESIS_SETTINGS = hypothesis.settings(
    deadline=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    print_blob=True,
    # A smoke run only has to show that something fails, not the smallest failing case.
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate] if SMOKE else list(hypothesis.Phase),
)

schema = load_contract_schema(SERVER)
# The chat stream is the product: it gets more cases than the other operations, so that at least
# MIN_COMPLETE_STREAMS complete streams are validated. (A per-operation `[[operations]]` section in
# schemathesis.toml would be the natural place, but in 4.32.5 it discards the schema's include filter.)
chat = load_contract_schema(SERVER, only={"chat"})
others = load_contract_schema(SERVER, without={"chat"})
CHAT_EXAMPLES = 10 if SMOKE else 160
for part in (schema, chat, others):
    install_case_hooks(part)


def _call_and_validate(case: schemathesis.Case[Any], target: ContractTarget) -> None:
    case.call_and_validate(base_url=target.base_url, excluded_checks=checks_excluded_for(case.operation.label))


@others.parametrize()
@HYPOTHESIS_SETTINGS
def test_operation_honours_the_spec(case: schemathesis.Case[Any], contract_target: ContractTarget) -> None:
    _call_and_validate(case, contract_target)


@chat.parametrize()
@hypothesis.settings(HYPOTHESIS_SETTINGS, max_examples=CHAT_EXAMPLES)
def test_chat_honours_the_spec(case: schemathesis.Case[Any], contract_target: ContractTarget) -> None:
    _call_and_validate(case, contract_target)


class WorkoutScenarios(schema.as_state_machine()):  # type: ignore[misc]
    """Follows the spec's links (createWorkout -> getWorkout / deleteWorkout) as one user per scenario."""

    base_url: ClassVar[str] = ""

    def setup(self) -> None:
        CREDENTIALS.begin_scenario()
        if CREDENTIALS.token is not None:
            # One fixed user for every scenario (the proxy run, a deployed target): start each from
            # an empty log, or a listing would show what earlier scenarios left, and Hypothesis would
            # see the same choices draw different steps (FlakyStrategyDefinition).
            erased = httpx.delete(f"{self.base_url}/v1/workouts", timeout=30,
                                  headers={"Authorization": f"Bearer {CREDENTIALS.token}"})
            assert erased.status_code == 204, f"erasing the test user's workouts: {erased.status_code} {erased.text}"

    def teardown(self) -> None:
        CREDENTIALS.end_scenario()

    def get_call_kwargs(self, case: schemathesis.Case[Any]) -> dict[str, Any]:
        return {"base_url": self.base_url}


def test_linked_operations_honour_the_spec(contract_target: ContractTarget) -> None:
    WorkoutScenarios.base_url = contract_target.base_url
    WorkoutScenarios.run(
        settings=hypothesis.settings(
            HYPOTHESIS_SETTINGS, max_examples=15, stateful_step_count=6, phases=[hypothesis.Phase.generate]
        )
    )


def test_enough_complete_streams_were_validated() -> None:
    if TALLY.cases_for("POST /v1/chat") == 0:
        pytest.skip("the chat operation was not exercised in this session (deselected)")
    if SMOKE:
        pytest.skip("a smoke run validates fewer streams by design")
    print("\n".join(TALLY.render()))
    assert TALLY.streams_validated >= MIN_COMPLETE_STREAMS, (
        f"only {TALLY.streams_validated} complete 200 streams were validated event by event "
        f"(at least {MIN_COMPLETE_STREAMS} needed)"
    )
