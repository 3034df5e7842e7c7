"""The journal keeps side effects that happened: an accepted POST is replayed, a refused one
(4xx: the server did not act on it) is sent again when the step runs again."""

from __future__ import annotations

import threading
import time
from typing import Any

from pyvela._core import actions as a
from pyvela._workflow.driver import StepRun, drive


def post_twice_step() -> Any:
    async def body() -> list[int]:
        first = await a.HttpRequest(method="POST", url="http://127.0.0.1:1/one")
        second = await a.HttpRequest(method="POST", url="http://127.0.0.1:1/two")
        return [first.status, second.status]

    return body()


def run_with(journal: list[dict[str, Any]], answers: dict[str, int], sent: list[str]) -> list[int]:
    def perform(action: a.Action[Any]) -> Any:
        assert isinstance(action, a.HttpRequest)
        url = str(action.url)
        sent.append(url)
        return a.HttpResponse(status=answers[url.rsplit("/", 1)[1]], headers={}, text="")

    run = StepRun(name="s", definition="d", journal=journal)
    result: list[int] = drive(
        post_twice_step(), run, perform, deadline=time.monotonic() + 60, cancel=threading.Event()
    )
    return result


def test_an_accepted_post_is_replayed_and_a_refused_one_sent_again() -> None:
    journal: list[dict[str, Any]] = []
    sent: list[str] = []
    assert run_with(journal, {"one": 201, "two": 400}, sent) == [201, 400]
    assert [e["action"] for e in journal] == ["POST http://127.0.0.1:1/one"]  # the 400 is not on record
    assert run_with(journal, {"one": 201, "two": 200}, sent) == [201, 200]
    assert sent == ["http://127.0.0.1:1/one", "http://127.0.0.1:1/two", "http://127.0.0.1:1/two"]
    assert [e["action"] for e in journal] == ["POST http://127.0.0.1:1/one", "POST http://127.0.0.1:1/two"]
