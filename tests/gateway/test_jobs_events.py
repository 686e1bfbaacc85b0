"""Background jobs and their server-sent events, through a real HTTP client and a gateway on a
socket (port 0): order, resume with Last-Event-ID, late subscribers, streaming POST, keep-alive."""

from __future__ import annotations

import json

import pytest
from httpx_sse import aconnect_sse

from tests.support.jobs import SeenEvent, read_events, served_stack, wait_done
from tests.support.providers import RecordingImages, ScriptedStructurer

# The whole suite runs on the memory backend and on Redis.
pytestmark = pytest.mark.usefixtures("job_backend")

ASYNC = {"Prefer": "respond-async"}


def summary(events: list[SeenEvent]) -> list[str]:
    out = []
    for event in events:
        detail = {"status": event.data.get("status"), "field_group": event.data.get("group")}
        detail = detail.get(event.type) or ""
        if event.type == "image":
            detail = f"{event.data['component']}:{event.data['status']}"
        out.append(f"{event.type}:{detail}" if detail else event.type)
    return out


async def test_a_background_job_answers_202_then_its_events_then_its_answer() -> None:
    async with served_stack(ScriptedStructurer(), RecordingImages()) as client:
        started = await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)
        assert started.status_code == 202, started.text
        body = started.json()
        job_id = body["id"]
        assert started.headers["location"] == f"/v1/case-studies/{job_id}"
        assert body["status"] in {"queued", "structuring"}
        assert body["links"]["self"] == f"/v1/case-studies/{job_id}"
        events = await wait_done(client, job_id)
        answer = (await client.get(f"/v1/case-studies/{job_id}")).json()
        request_trace = started.headers["x-trace-id"]
        finished = await client.delete(f"/v1/case-studies/{job_id}")

    assert [e.id for e in events] == list(range(1, len(events) + 1))
    names = summary(events)
    assert names[:2] == ["status:queued", "status:structuring"]
    groups = [e.data["group"] for e in events if e.type == "field_group"]
    assert groups == ["headline", "metrics", "phases", "narrative"]
    headline = next(e for e in events if e.type == "field_group")
    assert headline.data["fields"]["title"] == "How Acme Freight cut dispatch time by 67%"
    assert sorted(n for n in names if n.startswith("image:")) == [
        "image:hero:done",
        "image:metrics:done",
        "image:timeline:done",
    ]
    assert names.index("status:rendering") < names.index("status:done")
    assert names[-2:] == ["status:done", "done"]
    image = next(e.data for e in events if e.type == "image")
    assert image["url"] == f"/v1/images/{image['sha256']}" and image["version"] == 1
    # One trace for the job, not the request's, on every event and the answer.
    assert {e.data["job_id"] for e in events} == {job_id}
    assert {e.data["trace_id"] for e in events} == {answer["trace_id"]}
    assert answer["trace_id"] and answer["trace_id"] != request_trace
    assert answer["timings"]["steps"][0]["name"] == "case_study.job"
    assert events[-1].data == {**answer, "job_id": job_id, "trace_id": answer["trace_id"]}
    assert answer["status"] == "done" and answer["version"] == 1
    assert finished.status_code == 409 and "nothing to cancel" in finished.json()["detail"]
    assert answer["case_study"]["client_name"] == "Acme Freight"


async def test_reconnecting_with_last_event_id_gets_every_later_event_once() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    async with served_stack(structurer, RecordingImages()) as client:
        job_id = (await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)).json()[
            "id"
        ]
        url = f"/v1/case-studies/{job_id}/events"
        first = await read_events(client, url, stop_after="field_group")  # then the client leaves
        structurer.release.set()
        rest = await read_events(client, url, last_event_id=str(first[-1].id))
        whole = await read_events(client, url)  # a late subscriber: the whole history
        unknown = await read_events(client, url, last_event_id="9999")
        not_ours = await read_events(client, url, last_event_id="abc")
        after_the_end = await client.get(url, headers={"Last-Event-ID": str(rest[-1].id)})
        status = (await client.get(f"/v1/case-studies/{job_id}")).json()["status"]

    assert first[-1].data["group"] == "headline"
    assert status == "done"  # leaving the stream did not cancel the job
    assert first + rest == whole
    assert unknown == whole and not_ours == whole
    assert whole[-1].type == "done"
    assert after_the_end.status_code == 204  # nothing more: EventSource stops reconnecting


async def test_post_with_accept_event_stream_streams_the_job_on_the_same_connection() -> None:
    async with served_stack(ScriptedStructurer(), RecordingImages()) as client:
        seen = []
        async with aconnect_sse(client, "POST", "/v1/case-studies", json={"notes": "n"}) as source:
            location = source.response.headers["location"]
            async for sse in source.aiter_sse():
                seen.append(SeenEvent(int(sse.id), sse.event, json.loads(sse.data)))
        replay = await read_events(client, f"{location}/events")
    assert seen[0].type == "status" and seen[-1].type == "done"
    assert seen == replay


async def test_a_quiet_stream_gets_keep_alive_comments() -> None:
    structurer = ScriptedStructurer(hold_after=1)
    async with served_stack(structurer, RecordingImages(), events_keepalive_s=0.05) as client:
        job_id = (await client.post("/v1/case-studies", json={"notes": "n"}, headers=ASYNC)).json()[
            "id"
        ]
        lines: list[str] = []
        async with client.stream("GET", f"/v1/case-studies/{job_id}/events") as response:
            async for line in response.aiter_lines():
                lines.append(line)
                if line.startswith(":") and "event: field_group" in lines:
                    break  # a comment while the structurer holds: nothing else happens
        structurer.release.set()
        events = await wait_done(client, job_id)
    assert events[-1].type == "done"
    comment = lines[-1]
    assert comment.startswith(":") and "event: field_group" in lines[: lines.index(comment)]


async def test_events_of_an_unknown_job_are_a_404() -> None:
    async with served_stack(ScriptedStructurer(), RecordingImages()) as client:
        response = await client.get("/v1/case-studies/nope/events")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
