"""The example notes ship inside the package, so an installed casecraft's `demo` finds them."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from casecraft.examples import default_example, examples

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "casecraft", "examples", "gateway")
SOURCES += ("structurer_service", "image_service")
JUNK = shutil.ignore_patterns("__pycache__", "*.egg-info")


def test_the_examples_are_the_repositorys_examples() -> None:
    assert [entry.name for entry in examples()] == sorted(
        path.name for path in (ROOT / "examples").glob("*.md")
    )
    chosen = default_example()
    assert chosen is not None and chosen.name == "logistics_dispatch.md"
    assert chosen.read_text() == (ROOT / "examples" / "logistics_dispatch.md").read_text()


def test_an_installed_wheel_finds_its_examples(tmp_path: Path) -> None:
    """The wheel pip builds for `pip install .` (pipx, the container) holds the examples, and the
    lookup finds them there: the wheel is unpacked as site-packages would hold it and imported
    from there, away from the checkout."""
    source = tmp_path / "source"  # what the container copies; the build leaves no trace here
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=JUNK)
        else:
            shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("--wheel-dir", str(tmp_path / "dist"), str(source)),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("casecraft-*.whl")
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(wheel) as archive:
        shipped = {name for name in archive.namelist() if name.startswith("casecraft/examples/")}
        archive.extractall(site)
    assert shipped == {f"casecraft/examples/{p.name}" for p in (ROOT / "examples").glob("*.md")}

    found = subprocess.run(
        [sys.executable, "-I", "-c", FIND],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"CASECRAFT_SITE": str(site)},
    ).stdout.split("\n", 1)
    assert found[0] == str(site / "casecraft" / "examples" / "logistics_dispatch.md")
    assert found[1] == (ROOT / "examples" / "logistics_dispatch.md").read_text()


# Run isolated (-I: no checkout on the path, no user site), with only the unpacked wheel added.
FIND = """
import os, sys
sys.path.insert(0, os.environ["CASECRAFT_SITE"])
from casecraft.examples import default_example
chosen = default_example()
print(chosen, end="\\n")
print(chosen.read_text(), end="")
"""
