"""The long schemathesis pass over every job route of the gateway's OpenAPI document.

The same run as tests/fuzz/test_openapi_jobs.py (the services with their local providers, a done
job and one of its images named by the hooks), with many more examples per operation, against a
gateway without keys, then one with a keys file (with the key, and without it). Prints the test
cases schemathesis generated and whether any answer broke the document.

    python -m bench.openapi_fuzz --max-examples 300
    python -m bench.openapi_fuzz --json
"""

from __future__ import annotations

import argparse
import json
import re
import tempfile
from pathlib import Path
from typing import Any

from casecraft.api_keys import digest
from tests.fuzz.test_openapi_jobs import KEY
from tests.support.live_gateway import LiveGateway, schemathesis_run

_CASES = re.compile(r"(\d+) generated, (\d+) passed")


def one_pass(gateway: LiveGateway, *options: str, max_examples: int, cwd: Path) -> dict[str, Any]:
    run = schemathesis_run(gateway, *options, max_examples=max_examples, cwd=cwd)
    found = _CASES.search(run.stdout)
    generated, passed = (int(found.group(1)), int(found.group(2))) if found else (0, 0)
    return {
        "cases": generated,
        "passed": passed,
        "ok": run.returncode == 0,
        "report": "" if run.returncode == 0 else run.stdout[-4000:],
    }


def run(max_examples: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        cwd = Path(folder)
        keys = cwd / "keys"
        keys.write_text(f"fuzzer {digest(KEY)} rpm=100000000 in_flight=1000\n", encoding="utf-8")
        passes: dict[str, Any] = {}
        with LiveGateway() as gateway:
            gateway.make_job()
            passes["open"] = one_pass(gateway, max_examples=max_examples, cwd=cwd)
        with LiveGateway(api_keys_file=keys) as keyed:
            keyed.make_job({"Authorization": f"Bearer {KEY}"})
            passes["with_key"] = one_pass(
                keyed, f"--header=Authorization: Bearer {KEY}", max_examples=max_examples, cwd=cwd
            )
            passes["without_key"] = one_pass(keyed, max_examples=max_examples, cwd=cwd)
    return {
        "max_examples": max_examples,
        "cases": sum(p["cases"] for p in passes.values()),
        "ok": all(p["ok"] for p in passes.values()),
        "passes": passes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=300, help="per operation and phase")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    figures = run(args.max_examples)
    if args.json:
        print(json.dumps(figures))
    else:
        for name, one in figures["passes"].items():
            print(f"{name:>12}: {one['cases']} cases, {one['passed']} passed", one["report"])
        print(f"{'total':>12}: {figures['cases']} cases, ok={figures['ok']}")
    raise SystemExit(0 if figures["ok"] else 1)


if __name__ == "__main__":
    main()
