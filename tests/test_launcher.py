"""The launcher's words for how a service ended, and its restart backoff."""

from __future__ import annotations

import json

from casecraft.launcher import RestartPolicy, how_it_ended, last_words


def test_how_a_process_ended_in_words() -> None:
    assert how_it_ended(0) == "exited with code 0"
    assert how_it_ended(2) == "exited with code 2"
    assert how_it_ended(-9) == "was killed by SIGKILL"
    assert how_it_ended(-15) == "was killed by SIGTERM"


def test_last_words_prefer_the_services_own_refusal_then_its_last_error() -> None:
    error = json.dumps({"level": "error", "message": "the provider chain is empty"})
    info = json.dumps({"level": "info", "message": "stopped"})

    assert last_words(["Traceback ...", "casecraft: set ANTHROPIC_API_KEY", info]) == (
        "set ANTHROPIC_API_KEY"
    )
    assert last_words([error, info]) == "the provider chain is empty"
    assert last_words(["Segmentation fault"]) == "Segmentation fault"
    assert last_words([]) == "no output"


def test_restarts_back_off_doubling_to_a_ceiling() -> None:
    policy = RestartPolicy(base_delay_s=0.5, max_delay_s=4.0)
    assert [policy.delay_s(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
