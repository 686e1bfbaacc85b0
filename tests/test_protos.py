"""The generated code in casecraft/v1 is exactly what protos/generate.py produces today."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "generate_protos", ROOT / "protos" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerating_changes_nothing(tmp_path: Path) -> None:
    _generator().generate(tmp_path)
    fresh = {
        p.relative_to(tmp_path): p.read_bytes() for p in (tmp_path / "casecraft" / "v1").iterdir()
    }
    committed = {
        p.relative_to(ROOT): p.read_bytes()
        for p in (ROOT / "casecraft" / "v1").iterdir()
        if p.is_file() and p.suffix in {".py", ".pyi"}
    }
    assert sorted(map(str, fresh)) == sorted(map(str, committed)), (
        "files differ; run protos/generate.py"
    )
    stale = [str(path) for path, data in fresh.items() if committed[path] != data]
    assert not stale, f"stale generated code in {stale}; run `python protos/generate.py`"


def test_every_rpc_is_documented() -> None:
    undocumented = []
    for proto in (ROOT / "protos" / "casecraft" / "v1").glob("*.proto"):
        lines = proto.read_text().splitlines()
        for number, line in enumerate(lines):
            if line.strip().startswith("rpc ") and not lines[number - 1].strip().startswith("//"):
                undocumented.append(f"{proto.name}:{number + 1}: {line.strip()}")
    assert not undocumented, undocumented
