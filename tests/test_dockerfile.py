"""The Dockerfile builds reproducibly and cheaply, checked without building it: dependencies from
the committed constraints in a layer before the sources, the services' ports exposed, OCI labels."""

from __future__ import annotations

import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from gateway.settings import GatewaySettings
from image_service.settings import ImageSettings
from structurer_service.settings import StructurerSettings

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SOURCES = {"casecraft", "gateway", "structurer_service", "image_service"}


@dataclass(frozen=True)
class Instruction:
    keyword: str
    arguments: str


def stages() -> list[list[Instruction]]:
    """The Dockerfile's instructions, stage by stage (continuation lines joined)."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    found: list[list[Instruction]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip())
        if instruction.keyword == "FROM":
            found.append([])
        if found:
            found[-1].append(instruction)
    return found


def pins() -> dict[str, Version]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            requirement = Requirement(line)
            (specifier,) = requirement.specifier
            assert specifier.operator == "==", f"constraints.txt: {line} is not an exact pin"
            found[canonicalize_name(requirement.name)] = Version(specifier.version)
    return found


def test_dependencies_install_from_the_constraints_before_the_sources_are_copied() -> None:
    builder = stages()[0]
    copies = [i for i in builder if i.keyword == "COPY"]
    runs = [i for i in builder if i.keyword == "RUN"]
    first_source = min(builder.index(i) for i in copies if SOURCES & set(shlex.split(i.arguments)))
    dependencies = next(i for i in runs if "constraints.txt" in i.arguments)
    assert builder.index(dependencies) < first_source, "dependencies must not wait for sources"
    before = [i for i in copies if builder.index(i) < builder.index(dependencies)]
    assert [shlex.split(i.arguments)[0] for i in before] == ["constraints.txt"]
    assert re.search(
        r"pip (wheel|install) .*(--requirement|-r) constraints\.txt", dependencies.arguments
    )

    project = [i for i in runs if builder.index(i) > first_source and "pip install" in i.arguments]
    assert project and all(
        re.search(r"(--constraint|-c) constraints\.txt", i.arguments) for i in project
    ), "the project must install against the same pins"
    assert "constraints.txt" in (ROOT / ".dockerignore").read_text()


def test_the_constraints_pin_every_runtime_dependency_within_its_range() -> None:
    pinned = pins()
    for line in PYPROJECT["project"]["dependencies"]:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"constraints.txt does not pin {requirement.name}: regenerate it"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside {requirement.specifier}"
        )


def test_every_port_a_service_listens_on_is_exposed() -> None:
    final = stages()[-1]
    exposed = {
        int(port.split("/")[0])
        for i in final
        if i.keyword == "EXPOSE"
        for port in i.arguments.split()
    }
    listened = {
        GatewaySettings().gateway_port,
        StructurerSettings().port,
        StructurerSettings().metrics_port,
        ImageSettings().port,
        ImageSettings().metrics_port,
    }
    assert listened <= exposed, f"not exposed: {sorted(listened - exposed)}"


def test_the_image_carries_oci_labels() -> None:
    final = stages()[-1]
    labels = dict(
        pair.split("=", 1)
        for i in final
        if i.keyword == "LABEL"
        for pair in shlex.split(i.arguments)
    )
    for key in ("title", "description", "version", "revision", "licenses"):
        assert f"org.opencontainers.image.{key}" in labels, f"no {key} label"
    assert labels["org.opencontainers.image.licenses"] == PYPROJECT["project"]["license"]["text"]
    version_default = next(
        i.arguments.split("=", 1)[1] for i in final if i.arguments.startswith("VERSION=")
    )
    assert version_default == PYPROJECT["project"]["version"]
