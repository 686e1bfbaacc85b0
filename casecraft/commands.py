"""What each `casecraft` command does; the arguments are defined in casecraft/cli.py."""

from __future__ import annotations

import argparse
import asyncio
import base64
import signal
import sys
import webbrowser
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from casecraft.cli_errors import CommandError, UsageError
from casecraft.components import NAMES
from casecraft.examples import default_example
from casecraft.exports import ExportOptions
from casecraft.exports.web_page import TemplateProblem, load_template
from casecraft.gateway_client import gateway, gateway_of
from casecraft.launcher import LaunchError, PortInUse, Stack
from casecraft.notes_input import Notes, check_out, parse_components, read_notes, request_body
from casecraft.outputs import write_outputs
from casecraft.progress import progress_for
from casecraft.summary import summary
from gateway.settings import GatewaySettings

# Lines of each service's log shown when `demo` fails.
TAIL_LINES = 8


def _notify(message: str) -> None:
    print(f"casecraft: {message}", file=sys.stderr, flush=True)


def _to_stderr(line: str) -> None:
    sys.stderr.write(line)


def _started(stack: Stack) -> Stack:
    try:
        stack.start()
    except PortInUse as exc:
        raise CommandError(
            f"port {exc.port} is in use; pass --port with a free port (0: any free port) "
            "or set CASECRAFT_GATEWAY_PORT"
        ) from None
    except LaunchError as exc:
        raise CommandError(str(exc)) from None
    return stack


def cmd_up(args: argparse.Namespace) -> int:
    stack = Stack(
        gateway_port=args.port,
        sink=_to_stderr,
        notify=_notify,
    )
    # Ctrl-C and SIGTERM both mean: drain and stop. The children are in process groups of their
    # own, so only this process gets a terminal's Ctrl-C and each child is stopped once.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stack.request_stop())
    _started(stack)
    print(stack.gateway_url, flush=True)
    _notify(f"the page is at {stack.gateway_url}/ ; Ctrl-C stops the services")
    try:
        stack.ended.wait()
    finally:
        codes = stack.stop()
    if stack.failure is not None:
        raise CommandError(str(stack.failure))
    return 0 if all(code == 0 for code in codes) else 1


def _show_in_browser(stack: Stack, url: str) -> None:
    """Open the page on the finished job, and keep the services up for it until Ctrl-C."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stack.request_stop())
    opened = webbrowser.open(url)
    print(
        f"casecraft: {'opened' if opened else 'open'} {url} ; Ctrl-C stops the services", flush=True
    )
    stack.ended.wait()


class _Request:
    """The checked request of `demo` and `generate`: refused before anything starts."""

    job_id = ""

    def __init__(self, args: argparse.Namespace, notes: Notes) -> None:
        components = parse_components(args.components) if args.components else None
        self.out = check_out(args.out)
        self.components: Sequence[str] = components or NAMES
        self.body = request_body(
            notes,
            logo=args.logo,
            components=components,
            fast=args.fast,
            accent=args.accent,
            fresh=args.fresh,
            anonymize=args.anonymize,
        )
        # An anonymized case study's exports carry no logo either: it names the client.
        self.exports = _exports(args, None if args.anonymize else self.body.get("logo"))


def _exports(args: argparse.Namespace, logo: str | None = None) -> ExportOptions:
    """The exports' options: the flags, else the settings the gateway reads (CASECRAFT_*); a
    template that does not load is refused before anything starts."""
    settings = GatewaySettings()
    template_dir = Path(args.template) if args.template else settings.template_dir
    if "html" in args.formats or "zip" in args.formats:
        try:
            load_template(template_dir)
        except TemplateProblem as exc:
            raise UsageError(f"--template: {exc}") from exc
    return ExportOptions(
        accent_color=getattr(args, "accent", None),
        logo=base64.b64decode(logo.partition(",")[2]) if logo else None,
        page_size=args.page_size or settings.export_page_size,
        template_dir=template_dir,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    if args.notes:
        notes = read_notes(args.notes)
    else:
        example = default_example()
        if example is None:
            raise UsageError("no example notes were installed with casecraft; pass a notes file")
        notes = Notes(example.read_text(encoding="utf-8"), f"the example {example.name}")
    request = _Request(args, notes)
    stack = _started(Stack(notify=_notify))
    try:
        print(f"casecraft: services up, gateway at {stack.gateway_url}; structuring {notes.source}")
        code = _produce(stack.gateway_url, args, request)
        if args.open and request.job_id:
            _show_in_browser(stack, f"{stack.gateway_url}/#/case-studies/{request.job_id}")
        return code
    except CommandError:
        for name, lines in stack.tails().items():
            for line in lines[-TAIL_LINES:]:
                print(f"  {name} | {line}", file=sys.stderr)
        raise
    finally:
        stack.stop()


def cmd_generate(args: argparse.Namespace) -> int:
    request = _Request(args, read_notes(args.notes))
    if args.no_wait:
        return asyncio.run(_submit_only(args, request))
    return _produce(args.gateway, args, request, outlives_us=True)


def cmd_watch(args: argparse.Namespace) -> int:
    out = check_out(args.out)
    exports = _exports(args)
    is_url = args.job.startswith(("http://", "https://"))
    base_url = gateway_of(args.job) if is_url else args.gateway

    async def follow() -> tuple[dict[str, Any], dict[str, bytes], list[str]]:
        with progress_for(NAMES) as progress:
            async with gateway(base_url, args.timeout) as client:
                answer = await client.follow(client.job_url(args.job), progress.handle)
                return answer, *await client.image_bytes(answer)

    return _written(out, *asyncio.run(follow()), exports, args.formats)


def _produce(
    base_url: str, args: argparse.Namespace, request: _Request, *, outlives_us: bool = False
) -> int:
    """Send the request, follow the job, write the outputs and print the summary. When the job
    ``outlives_us`` (a gateway we did not start), a Ctrl-C says how to follow it again."""
    started: list[str] = []

    async def run() -> tuple[dict[str, Any], dict[str, bytes], list[str]]:
        with progress_for(request.components) as progress:
            async with gateway(base_url, args.timeout) as client:
                submitted = await client.submit(request.body)
                if submitted.job_url is not None:
                    started.append(submitted.job_url)
                    progress.note(f"job {submitted.job_url}")
                    answer = await client.follow(submitted.job_url, progress.handle)
                else:
                    assert submitted.answer is not None
                    answer = submitted.answer
                    progress.answered(answer)
                request.job_id = str(answer.get("id", ""))
                return answer, *await client.image_bytes(answer)

    try:
        return _written(request.out, *asyncio.run(run()), request.exports, args.formats)
    except KeyboardInterrupt:
        if outlives_us and started:
            _notify(f"the job goes on; follow it again with: casecraft watch {started[0]}")
        raise


async def _submit_only(args: argparse.Namespace, request: _Request) -> int:
    async with gateway(args.gateway, args.timeout) as client:
        submitted = await client.submit(request.body)
        if submitted.job_url is not None:
            print(submitted.job_url)
            return 0
        assert submitted.answer is not None
        answer = submitted.answer
        images, problems = await client.image_bytes(answer)
    _notify("this gateway has no jobs API, so it answered at once")
    return _written(request.out, answer, images, problems, request.exports, args.formats)


def _written(
    out: Path,
    answer: dict[str, Any],
    images: dict[str, bytes],
    problems: list[str],
    exports: ExportOptions,
    formats: Sequence[str],
) -> int:
    try:
        written = write_outputs(answer, out, images, options=exports, formats=formats)
    except ValueError as exc:  # a template that fails only on this answer's data
        raise CommandError(f"{exc}; case_study.json and the images are in {out}") from exc
    print(summary(answer, written, problems))
    return 0
