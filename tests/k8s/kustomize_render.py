"""Renders k8s/ the way `kustomize build` does, for the subset of kustomize the manifests use.

No kustomize binary is needed. Anything outside that subset fails loudly, so the tests never pass
on a rendering that differs from kustomize's.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "k8s"
BASE = K8S / "base"
EXAMPLE = K8S / "overlays" / "example"
SECRET_TEMPLATE = K8S / "secrets" / "provider-keys.template.yaml"

Obj = dict[str, Any]

_SUPPORTED = {"apiVersion", "kind", "resources", "components", "patches", "namespace", "images"}
_CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass"}


class Unsupported(AssertionError):
    pass


def load_documents(path: Path) -> list[Obj]:
    with path.open(encoding="utf-8") as stream:
        return [doc for doc in yaml.safe_load_all(stream) if doc is not None]


def render(directory: Path, *, expected_kind: str = "Kustomization") -> list[Obj]:
    """The objects `kustomize build directory` prints (for the supported fields)."""
    kustomization = _kustomization(directory)
    kind = kustomization.get("kind", "Kustomization")
    if kind != expected_kind:
        raise Unsupported(f"{directory}: kind {kind}, expected {expected_kind}")
    unknown = set(kustomization) - _SUPPORTED
    if unknown:
        raise Unsupported(f"{directory}: {sorted(unknown)} not supported by the test renderer")

    objects: list[Obj] = []
    for entry in kustomization.get("resources", []):
        target = (directory / entry).resolve()
        objects.extend(render(target) if target.is_dir() else load_documents(target))
    for entry in kustomization.get("components", []):
        objects = _apply_component((directory / entry).resolve(), objects)
    _patch(directory, kustomization, objects)
    if "namespace" in kustomization:
        for obj in objects:
            if obj["kind"] not in _CLUSTER_SCOPED:
                obj["metadata"]["namespace"] = kustomization["namespace"]
    for image in kustomization.get("images", []):
        _set_image(objects, image)
    _check_unique(directory, objects)
    return objects


def object_id(obj: Obj) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def _kustomization(directory: Path) -> Obj:
    path = directory / "kustomization.yaml"
    if not path.is_file():
        raise Unsupported(f"{directory}: no kustomization.yaml")
    (document,) = load_documents(path)
    return dict(document)


def _apply_component(directory: Path, objects: list[Obj]) -> list[Obj]:
    # A component adds its resources to what its parent has so far and patches all of it.
    kustomization = _kustomization(directory)
    if kustomization.get("kind") != "Component":
        raise Unsupported(f"{directory}: a component must be kind Component")
    unknown = set(kustomization) - {"apiVersion", "kind", "resources", "patches"}
    if unknown:
        raise Unsupported(f"{directory}: {sorted(unknown)} not supported in a component")
    objects = [*objects]
    for entry in kustomization.get("resources", []):
        objects.extend(load_documents(directory / entry))
    _patch(directory, kustomization, objects)
    return objects


def _patch(directory: Path, kustomization: Obj, objects: list[Obj]) -> None:
    for entry in kustomization.get("patches", []):
        if set(entry) != {"path"}:
            raise Unsupported(f"{directory}: only `patches: [{{path: ...}}]` is supported")
        for patch in load_documents(directory / entry["path"]):
            matches = [
                obj
                for obj in objects
                if obj["kind"] == patch["kind"]
                and obj["metadata"]["name"] == patch["metadata"]["name"]
            ]
            if len(matches) != 1:
                raise AssertionError(
                    f"{directory / entry['path']}: patch target "
                    f"{patch['kind']}/{patch['metadata']['name']} matches {len(matches)} objects"
                )
            _merge(matches[0], patch, where=str(directory / entry["path"]))


def _merge(target: Obj, patch: Obj, *, where: str) -> None:
    # Strategic merge and JSON merge agree on maps; lists would need kustomize's merge keys.
    for key, value in patch.items():
        if isinstance(value, list):
            raise Unsupported(f"{where}: lists in patches are not supported by the test renderer")
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value, where=where)
        else:
            target[key] = copy.deepcopy(value)


def _set_image(objects: list[Obj], image: Obj) -> None:
    unknown = set(image) - {"name", "newName", "newTag"}
    if unknown:
        raise Unsupported(f"images: {sorted(unknown)} not supported by the test renderer")
    for container in all_containers(objects):
        name, _, tag = container["image"].partition(":")
        if name == image["name"]:
            container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"


def _check_unique(directory: Path, objects: list[Obj]) -> None:
    ids = [object_id(obj) for obj in objects]
    duplicates = {i for i in ids if ids.count(i) > 1}
    if duplicates:
        raise AssertionError(f"{directory}: kustomize rejects duplicate objects {duplicates}")


def all_containers(objects: list[Obj]) -> list[Obj]:
    containers = []
    for obj in objects:
        if obj["kind"] == "Deployment":
            spec = obj["spec"]["template"]["spec"]
            containers.extend(spec.get("initContainers", []) + spec["containers"])
    return containers


def kustomizations(kind: str = "Kustomization") -> list[Path]:
    """Every folder under k8s/ with a kustomization.yaml of this kind (a base, an overlay...)."""
    found = sorted(path.parent for path in K8S.rglob("kustomization.yaml"))
    return [path for path in found if _kustomization(path).get("kind", "Kustomization") == kind]
