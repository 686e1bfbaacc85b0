"""The configured API keys: checked before use, and masked wherever a message might quote them."""

from __future__ import annotations

import re

_MAX_MESSAGE = 300
_KEY_LIKE = re.compile(r"\b(sk|pk|rk|key)[-_][A-Za-z0-9_\-]{6,}")
# What one token in an HTTP header can hold: visible ASCII.
_HEADER_TOKEN = re.compile(r"[\x21-\x7e]+")
# The configured API keys, whatever their shape, longest first; redact() masks each of them.
# Replaced whole, never changed in place, so a redact() in another thread sees one or the other.
_secrets: tuple[str, ...] = ()


def usable_key(provider: str, value: str) -> str:
    """``value`` as it can be sent: surrounding whitespace (a key file's newline) dropped, a key
    no HTTP header can carry refused with a ``ValueError`` that does not show it, and the key
    remembered so that ``redact`` masks it from now on."""
    global _secrets
    key = value.strip()
    if not _HEADER_TOKEN.fullmatch(key):
        raise ValueError(
            f"the API key for {provider} is empty or holds a character no HTTP header can carry "
            "(a space, a line break, a control or non-ASCII character): check the key"
        )
    if len(key) >= 8:  # shorter ones are placeholders for local servers, not secrets
        _secrets = tuple(sorted({*_secrets, key}, key=len, reverse=True))
    return key


def redact(text: str) -> str:
    """Mask the configured API keys and anything that looks like one; bound the length."""
    for secret in _secrets:
        text = text.replace(secret, "***")
    text = _KEY_LIKE.sub(lambda m: m.group(0)[:3] + "***", text)
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"
