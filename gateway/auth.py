"""API keys: who may call the gateway, by name, from a file that holds only the keys' hashes.

The keys file (``CASECRAFT_API_KEYS_FILE``, e.g. a mounted Kubernetes Secret) has one key a line::

    # name       sha256 of the key                                                  quotas
    marketing    9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  rpm=30 in_flight=3
    ci-bot       60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752

``casecraft keys new NAME`` makes a key, prints it once, and prints the line to add. Without a
keys file the gateway is open (a local ``casecraft up``). With one, every ``/v1/`` route needs
``Authorization: Bearer <key>``; health, readiness, metrics, the OpenAPI document and the page
stay open.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from pathlib import Path

from opentelemetry import trace
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from casecraft.api_keys import digest, valid_name
from gateway.problems import Problem

_HASH = re.compile(r"[0-9a-f]{64}")
_QUOTAS = ("rpm", "in_flight")
# Images are addressed by the SHA-256 of their bytes: only a caller shown the address (in its own
# job's answer) can ask for one, so an <img src> needs no key.
OPEN_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/static/", "/v1/images/")
CHALLENGE = 'Bearer realm="casecraft"'


class KeysFileError(ValueError):
    """The keys file cannot be used; the message names the line and the fix."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    sha256: str
    # None: the gateway's default quota.
    rpm: int | None = None
    in_flight: int | None = None


def load_keys(path: Path) -> dict[str, ApiKey]:
    """The keys in ``path``, by hash."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeysFileError(
            f"CASECRAFT_API_KEYS_FILE={path}: {exc.strerror or exc}; point it at the keys file"
        ) from exc
    keys: dict[str, ApiKey] = {}
    names: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}, line {number}"
        name, _, rest = line.partition(" ")
        parts = rest.split()
        if not valid_name(name) or not parts or not _HASH.fullmatch(parts[0]):
            raise KeysFileError(
                f"{where}: expected 'NAME SHA256 [rpm=N] [in_flight=N]'; "
                "make a line with `casecraft keys new NAME`"
            )
        if name in names:
            raise KeysFileError(f"{where}: the name {name!r} is used twice; give each key its own")
        quotas: dict[str, int] = {}
        for part in parts[1:]:
            quota, _, value = part.partition("=")
            if quota not in _QUOTAS or not value.isdecimal() or int(value) < 1:
                raise KeysFileError(
                    f"{where}: {part!r} is not a quota; use rpm=N or in_flight=N (N ≥ 1)"
                )
            quotas[quota] = int(value)
        names.add(name)
        keys[parts[0]] = ApiKey(name, parts[0], **quotas)
    if not keys:
        raise KeysFileError(
            f"{path} holds no key; add one with `casecraft keys new NAME`, or unset "
            "CASECRAFT_API_KEYS_FILE to run without keys"
        )
    return keys


def caller(scope: Scope) -> ApiKey | None:
    """The key the request was made with (None when the gateway runs without keys)."""
    found = scope.get("state", {}).get("api_key")
    return found if isinstance(found, ApiKey) else None


class RequireApiKey:
    """ASGI middleware: a ``/v1/`` request without a known key gets a 401 problem; a known key's
    name goes on the request's span and into the request's state (never the key)."""

    def __init__(self, app: ASGIApp, keys: dict[str, ApiKey]) -> None:
        self.app = app
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") or path.startswith(OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        if scope.get("method") == "OPTIONS":  # a CORS preflight carries no credentials
            await self.app(scope, receive, send)
            return
        scheme, _, token = Headers(scope=scope).get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            await _unauthorized(
                "this gateway needs an API key: send Authorization: Bearer <key>", ""
            ).response(path)(scope, receive, send)
            return
        key = self._find(token.strip())
        if key is None:
            await _unauthorized(
                "the API key is not known to this gateway; check it, or ask for a new one",
                ', error="invalid_token"',
            ).response(path)(scope, receive, send)
            return
        scope.setdefault("state", {})["api_key"] = key
        trace.get_current_span().set_attribute("casecraft.api_key.name", key.name)
        await self.app(scope, receive, send)

    def _find(self, token: str) -> ApiKey | None:
        wanted = digest(token)
        for known, key in self.keys.items():
            if hmac.compare_digest(known, wanted):
                return key
        return None


def _unauthorized(detail: str, error: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": CHALLENGE + error})
