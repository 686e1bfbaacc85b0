"""The command's HTTP client for the gateway: start a job, follow its events, fetch its images.

A case study is asked for with ``Prefer: respond-async``; the gateway answers ``202`` with the
job's ``Location``, whose ``/events`` stream (server-sent events) says what is ready as it becomes
ready and ends with the whole answer. A gateway without jobs answers the same request at once
(``200``) or refuses it (404, 405, 415); the client then falls back to the synchronous request.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from httpx_sse import SSEError, aconnect_sse

from casecraft.cli_errors import CommandError
from casecraft.eventloop import cancel_requested

# A stream that breaks before its end is resumed (Last-Event-ID) this many times in a row.
MAX_RECONNECTS = 5
CONNECT_TIMEOUT_S = 10.0
_OLD_GATEWAY = (404, 405, 415)
_ENDS = ("done", "failed", "cancelled")

OnEvent = Callable[[str, dict[str, Any]], None]


class GatewayUnreachable(CommandError):
    """Nothing answered at the gateway's address."""


class GatewayTimeout(CommandError):
    """The gateway did not answer within the command's ``--timeout``."""


class GatewayRefused(CommandError):
    """The gateway answered with an error (a problem+json detail says why)."""


class JobFailed(CommandError):
    """The job ended failed or cancelled."""


@dataclass(frozen=True)
class Submitted:
    """What a POST started: a job to follow at ``job_url``, or (from a gateway without jobs, or a
    synchronous request) the finished ``answer``."""

    job_url: str | None = None
    answer: dict[str, Any] | None = None


def problem_detail(response: httpx.Response) -> str:
    """The one line that says why a response is an error: its problem's detail, else its text."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        detail = body.get("detail") or body.get("title")
        if detail:
            return str(detail)
    text = " ".join(response.text.split())
    return text[:300] or response.reason_phrase


def gateway_of(job_url: str) -> str:
    """The gateway that serves a job's URL (where its images are too)."""
    url = httpx.URL(job_url)
    return f"{url.scheme}://{url.netloc.decode()}"


class GatewayClient:
    """Talks to one gateway at ``base_url`` (``http://host:port``)."""

    def __init__(self, base_url: str, client: httpx.AsyncClient) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = client

    def job_url(self, id_or_url: str) -> str:
        """A job's URL from its id, or the URL itself."""
        if id_or_url.startswith(("http://", "https://")):
            return id_or_url.rstrip("/")
        return f"{self.base_url}/v1/case-studies/{id_or_url.strip('/')}"

    async def submit(self, body: dict[str, Any], *, wait: bool = False) -> Submitted:
        """POST the request: as a job (``Prefer: respond-async``) unless ``wait``."""
        url = f"{self.base_url}/v1/case-studies"
        if not wait:
            response = await self._client.post(url, json=body, headers={"Prefer": "respond-async"})
            if response.status_code == 202:
                location = response.headers.get("location")
                if not location:
                    raise GatewayRefused("the gateway accepted the job but did not say where it is")
                return Submitted(job_url=str(response.url.join(location)))
            if response.status_code not in _OLD_GATEWAY:
                return Submitted(answer=self._answer(response))
        return Submitted(answer=self._answer(await self._client.post(url, json=body)))

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        if response.status_code != 200:
            raise GatewayRefused(
                f"the gateway answered {response.status_code}: {problem_detail(response)}"
            )
        answer: dict[str, Any] = response.json()
        return answer

    async def follow(self, job_url: str, on_event: OnEvent) -> dict[str, Any]:
        """Follow the job's events until it ends; returns the ``done`` event's answer. A stream
        that breaks is resumed where it broke."""
        last_id: str | None = None
        breaks = 0
        while True:
            headers = {"Last-Event-ID": last_id} if last_id else {}
            try:
                async with aconnect_sse(
                    self._client, "GET", f"{job_url}/events", headers=headers
                ) as source:
                    if source.response.status_code != 200:
                        await source.response.aread()
                        raise GatewayRefused(
                            f"the gateway answered {source.response.status_code} for "
                            f"{job_url}/events: {problem_detail(source.response)}"
                        )
                    async for sse in source.aiter_sse():
                        if sse.id:
                            last_id = sse.id
                        breaks = 0
                        data = json.loads(sse.data) if sse.data else {}
                        on_event(sse.event, data)
                        if sse.event in _ENDS:
                            return self._ended(job_url, sse.event, data)
                why = "it ended before the job did"
            except (httpx.RemoteProtocolError, httpx.ReadError, SSEError) as exc:
                if cancel_requested():  # the stream broke because the follow was cancelled
                    raise asyncio.CancelledError from exc
                why = str(exc) or type(exc).__name__
            if breaks >= MAX_RECONNECTS:
                raise GatewayUnreachable(
                    f"the event stream of {job_url} kept breaking ({why}); "
                    f"follow it again with: casecraft watch {job_url}"
                )
            breaks += 1
            await asyncio.sleep(0.1 * breaks)

    @staticmethod
    def _ended(job_url: str, event: str, data: dict[str, Any]) -> dict[str, Any]:
        if event == "done":
            return data
        if event == "cancelled":
            raise JobFailed(f"the job {job_url} was cancelled")
        problem = data.get("problem") or {}
        detail = problem.get("detail") or problem.get("title") or "no reason given"
        raise JobFailed(f"the job failed: {detail}")

    async def image_bytes(self, answer: dict[str, Any]) -> tuple[dict[str, bytes], list[str]]:
        """Each finished image's bytes, by component: from its data URL, else fetched from its
        ``url``. Also returns why an image could not be fetched (its entry is then missing)."""
        found: dict[str, bytes] = {}
        fetches: dict[str, str] = {}
        for image in answer.get("images", []):
            if image.get("status") not in ("ok", "done"):
                continue
            if image.get("data_url"):
                found[image["component"]] = base64.b64decode(image["data_url"].partition(",")[2])
            elif image.get("url"):
                fetches[image["component"]] = image["url"]
        results = await asyncio.gather(
            *(self._client.get(httpx.URL(self.base_url).join(url)) for url in fetches.values()),
            return_exceptions=True,
        )
        problems = []
        for (component, url), result in zip(fetches.items(), results, strict=True):
            if isinstance(result, httpx.Response) and result.status_code == 200:
                found[component] = result.content
            else:
                why = (
                    f"{result.status_code} {problem_detail(result)}"
                    if isinstance(result, httpx.Response)
                    else str(result)
                )
                problems.append(f"{component}: could not fetch {url} ({why})")
        return found, problems


@asynccontextmanager
async def gateway(base_url: str, timeout_s: float) -> AsyncIterator[GatewayClient]:
    """A client for the gateway at ``base_url``; everything done with it must end within
    ``timeout_s``. Transport failures become one-line CommandErrors."""
    base_url = base_url.rstrip("/")
    try:
        async with asyncio.timeout(timeout_s):
            async with httpx.AsyncClient(
                timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, CONNECT_TIMEOUT_S))
            ) as client:
                yield GatewayClient(base_url, client)
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        raise GatewayUnreachable(
            f"could not reach the gateway at {base_url} ({exc}); start one with `casecraft up` "
            "or pass --gateway"
        ) from None
    except (TimeoutError, httpx.TimeoutException):
        raise GatewayTimeout(
            f"the gateway at {base_url} did not answer within {timeout_s:g} s; "
            "pass a longer --timeout (or --fast)"
        ) from None
    except httpx.HTTPError as exc:
        raise GatewayUnreachable(
            f"the connection to the gateway at {base_url} failed: {exc}"
        ) from None
