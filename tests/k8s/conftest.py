"""Fixtures: the objects each kustomization under k8s/ renders."""

from __future__ import annotations

import pytest

from .kustomize_render import BASE, EXAMPLE, K8S, Obj, kustomizations, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[Obj]]:
    """Each buildable kustomization under k8s/ (path relative to k8s/) and what it renders."""
    return {str(path.relative_to(K8S)): render(path) for path in kustomizations()}


@pytest.fixture(scope="session")
def base() -> list[Obj]:
    return render(BASE)


@pytest.fixture(scope="session")
def example() -> list[Obj]:
    return render(EXAMPLE)
