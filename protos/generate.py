"""Regenerate the Python code for protos/casecraft/v1/*.proto into casecraft/v1/.

Run with the pinned grpcio-tools from the dev extra: ``python protos/generate.py``.
``--out DIR`` writes elsewhere (the freshness test uses it to compare).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from grpc_tools import protoc

PROTO_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PROTO_ROOT.parent


def generate(out_dir: Path) -> list[Path]:
    """Compile every .proto under protos/ into ``out_dir`` and return the files written."""
    protos = sorted(PROTO_ROOT.rglob("*.proto"))
    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).resolve().parent / "_proto"
    args = [
        "grpc_tools.protoc",
        f"--proto_path={PROTO_ROOT}",
        f"--proto_path={include}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *(str(p.relative_to(PROTO_ROOT)) for p in protos),
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed; see the messages above")
    package_dirs = {out_dir / p.parent.relative_to(PROTO_ROOT) for p in protos}
    for package in package_dirs:
        for parent in [package, *package.parents]:
            if parent == out_dir:
                break
            (parent / "__init__.py").touch()
    return sorted(p for package in package_dirs for p in package.iterdir() if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT)
    written = generate(parser.parse_args().out)
    print(f"wrote {len(written)} files", file=sys.stderr)


if __name__ == "__main__":
    main()
