"""The example notes shipped inside the package, which `casecraft demo` runs when given none.

They are package data (``casecraft/examples`` links to the repository's ``examples/``), so an
installed casecraft (``pip install .``, pipx, a container) finds them without a checkout.
"""

from __future__ import annotations

from importlib.resources import files
from importlib.resources.abc import Traversable

DEFAULT = "logistics_dispatch.md"


def examples() -> list[Traversable]:
    """Every example's notes, by name."""
    folder = files("casecraft") / "examples"
    if not folder.is_dir():
        return []
    return sorted(
        (entry for entry in folder.iterdir() if entry.name.endswith(".md")),
        key=lambda entry: entry.name,
    )


def default_example() -> Traversable | None:
    """The example the demo runs: the logistics notes, else the first there is."""
    found = examples()
    preferred = [entry for entry in found if entry.name == DEFAULT]
    chosen = preferred or found
    return chosen[0] if chosen else None
