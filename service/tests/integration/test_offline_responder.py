"""The offline responder (the default, no key needed) answers usefully from retrieved documents."""

from __future__ import annotations

from tests.support.service_process import ServiceProcess
from tests.support.sse_client import Chat


def test_offline_answers_are_labelled_grounded_and_different(offline_service: ServiceProcess) -> None:
    squat = Chat(offline_service.url).send("How do I keep my knees from caving in when I squat?")
    sleep = Chat(offline_service.url).send("How much sleep do I need to recover from training?")
    for result in (squat, sleep):
        assert result.done["model"] == "offline"
        assert "offline" in result.text.lower()
        documents = result.events[1].data["documents"]
        assert result.events[1].data["count"] == len(documents) > 0
        assert "[1]" in result.text
    assert squat.text != sleep.text
    assert any("squat" in d["title"].lower() for d in squat.events[1].data["documents"])


def test_offline_uses_a_fact_from_two_turns_earlier(offline_service: ServiceProcess) -> None:
    chat = Chat(offline_service.url)
    chat.send("I have a bad left knee")
    chat.send("What should I eat after training?")
    answer = chat.send("Can I do lunges?")
    assert "bad left knee" in answer.text.lower()


def test_red_flags_get_the_see_a_professional_answer_offline(offline_service: ServiceProcess) -> None:
    answer = Chat(offline_service.url).send("I get chest pain and feel dizzy when I run, should I push through?")
    text = answer.text.lower()
    assert "stop" in text and ("doctor" in text or "medical" in text)
