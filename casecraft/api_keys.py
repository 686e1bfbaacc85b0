"""``casecraft keys new NAME``: a new API key, printed once, and the line for the keys file."""

from __future__ import annotations

import hashlib
import re
import secrets
import sys

KEY_PREFIX = "cc_"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def digest(key: str) -> str:
    """What the keys file holds of a key. Keys are 256 random bits, so a plain hash is enough:
    there is nothing to find by brute force."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def valid_name(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_line(name: str, key: str) -> str:
    return f"{name} {digest(key)}"


def new(name: str) -> int:
    if not valid_name(name):
        print(
            f"casecraft: {name!r} cannot name a key; use letters, digits, '.', '_' or '-' "
            "(at most 64, starting with a letter or digit)",
            file=sys.stderr,
        )
        return 2
    key = new_key()
    print(f"API key for {name} (shown once; give it to its owner and keep no copy):\n\n  {key}\n")
    print("Add this line to the keys file (CASECRAFT_API_KEYS_FILE):\n")
    print(f"  {key_line(name, key)}\n")
    print("Append rpm=N and in_flight=N to the line to give this key its own quotas.")
    return 0
