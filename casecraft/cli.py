"""The `casecraft` command: run the services, try a demo, or send notes to a running gateway."""

from __future__ import annotations

import argparse
import base64
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import httpx

from casecraft.documents import DocumentError, read_document
from casecraft.launcher import LaunchError, Stack
from casecraft.outputs import write_outputs
from casecraft.waterfall import waterfall

DEFAULT_NOTES = "logistics_dispatch.md"
_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def _examples_dir() -> Path:
    for candidate in (Path.cwd() / "examples", Path(__file__).resolve().parents[1] / "examples"):
        if candidate.is_dir():
            return candidate
    raise SystemExit("no examples/ folder found; pass a NOTES_FILE")


def _default_notes() -> Path:
    examples = _examples_dir()
    preferred = examples / DEFAULT_NOTES
    if preferred.is_file():
        return preferred
    found = sorted(examples.glob("*.md"))
    if not found:
        raise SystemExit(f"no notes in {examples}; pass a NOTES_FILE")
    return found[0]


def _body(args: argparse.Namespace, notes_path: Path) -> dict[str, Any]:
    """The request, read from the files before anything starts; SystemExit says what is wrong."""
    try:
        body: dict[str, Any] = {
            "notes": read_document(notes_path.read_bytes(), notes_path.name).text
        }
    except DocumentError as exc:
        raise SystemExit(f"casecraft: {notes_path}: {str(exc).partition(': ')[2]}") from exc
    except OSError as exc:
        raise SystemExit(f"casecraft: {notes_path}: {exc.strerror or exc}") from exc
    if args.logo:
        logo = Path(args.logo)
        media_type = _LOGO_TYPES.get(logo.suffix.lower())
        if media_type is None:
            raise SystemExit(f"--logo {logo}: use a .png or .jpg file")
        try:
            data = logo.read_bytes()
        except OSError as exc:
            raise SystemExit(f"casecraft: --logo {logo}: {exc.strerror or exc}") from exc
        body["logo"] = f"data:{media_type};base64,{base64.b64encode(data).decode()}"
    if args.components:
        body["components"] = args.components.split(",")
    if args.fast:
        body["options"] = {"fast": True}
    if args.fresh:
        body.setdefault("options", {})["fresh"] = True
    return body


def _generate(gateway: str, args: argparse.Namespace, body: dict[str, Any]) -> int:
    out = Path(args.out)
    try:
        response = httpx.post(
            f"{gateway.rstrip('/')}/v1/case-studies",
            json=body,
            timeout=args.timeout,
        )
    except httpx.HTTPError as exc:
        print(f"casecraft: could not reach the gateway at {gateway}: {exc}", file=sys.stderr)
        return 2
    if response.status_code != 200:
        print(f"casecraft: the gateway answered {response.status_code}:", file=sys.stderr)
        print(response.text, file=sys.stderr)
        return 1
    answer = response.json()
    written = write_outputs(answer, out)
    _summary(answer, written)
    return 0


def _summary(answer: dict[str, Any], written: list[Path]) -> None:
    study = answer["case_study"]
    print(f"\n{study.get('title', '(untitled)')}")
    if study.get("subtitle"):
        print(f"  {study['subtitle']}")
    print(f"  client: {study.get('client_name') or '?'}   industry: {study.get('industry') or '?'}")
    print(
        f"  {len(study.get('metrics', []))} metrics, {len(study.get('phases', []))} phases, "
        f"quote: {'yes' if study.get('quote') else 'no'}"
    )
    for image in answer["images"]:
        detail = (
            f"{image['width']}x{image['height']}"
            if image["status"] == "ok"
            else image.get("error", "")
        )
        print(f"  image {image['component']:<9} {image['status']:<10} {detail}")
    for skipped in answer.get("skipped", []):
        print(f"  image {skipped['component']:<9} skipped    {skipped['reason']}")
    for warning in answer.get("warnings", []):
        print(f"  note: {warning}")
    print(f"\nWhere the time went ({answer['timings']['total_ms']:.1f} ms in all):")
    print(waterfall(answer["timings"]))
    print("\nWrote " + ", ".join(str(p) for p in written))


def _stack_or_exit(args: argparse.Namespace, sink: Any) -> Stack:
    stack = Stack(gateway_port=getattr(args, "port", 0), sink=sink)
    try:
        stack.start()
    except LaunchError as exc:
        raise SystemExit(f"casecraft: {exc}") from exc
    return stack


def cmd_up(args: argparse.Namespace) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stack = _stack_or_exit(args, lambda line: sys.stderr.write(line))
    print(stack.gateway_url, flush=True)
    try:
        stop.wait()
    finally:
        codes = stack.stop()
    return 0 if all(code == 0 for code in codes) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    notes = Path(args.notes) if args.notes else _default_notes()
    if not notes.is_file():
        raise SystemExit(f"casecraft: {notes}: no such file")
    body = _body(args, notes)
    log_lines: list[str] = []
    stack = _stack_or_exit(args, log_lines.append)
    try:
        print(f"casecraft: services up, gateway at {stack.gateway_url}; structuring {notes}")
        return _generate(stack.gateway_url, args, body)
    finally:
        stack.stop()


def cmd_generate(args: argparse.Namespace) -> int:
    notes = Path(args.notes)
    if not notes.is_file():
        raise SystemExit(f"casecraft: {notes}: no such file")
    return _generate(args.gateway, args, _body(args, notes))


def _request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="out", help="folder for case_study.json, PNGs, index.html")
    parser.add_argument("--logo", help="the client's logo, a .png or .jpg file")
    parser.add_argument("--components", help="comma-separated subset of hero,metrics,timeline")
    parser.add_argument("--fast", action="store_true", help="faster models, smaller images")
    parser.add_argument(
        "--fresh", action="store_true", help="structure again even if these notes are cached"
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for the answer"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="casecraft", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    up = commands.add_parser("up", help="start the three services and print the gateway's URL")
    up.add_argument("--port", type=int, default=8080, help="gateway port (0: any free port)")
    up.set_defaults(run=cmd_up)
    demo = commands.add_parser("demo", help="start the services, run one example, stop")
    demo.add_argument("notes", nargs="?", help="notes file (default: one from examples/)")
    _request_options(demo)
    demo.set_defaults(run=cmd_demo)
    generate = commands.add_parser("generate", help="send notes to a running gateway")
    generate.add_argument("notes", help="notes file")
    generate.add_argument("--gateway", required=True, help="e.g. http://127.0.0.1:8080")
    _request_options(generate)
    generate.set_defaults(run=cmd_generate)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
