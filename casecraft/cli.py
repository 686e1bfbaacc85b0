"""The `casecraft` command: run the services, try a demo, or send notes to a running gateway.

Every argument of every command is defined here; what the commands do is in casecraft/commands.py.
A failure is one line on standard error that says what to do, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from casecraft import api_keys, commands
from casecraft.cli_errors import CommandError
from casecraft.exports import FORMATS
from casecraft.outputs import DEFAULT_FORMATS

DEFAULT_GATEWAY = os.environ.get("CASECRAFT_GATEWAY_URL", "http://127.0.0.1:8080")
DEFAULT_PORT = int(os.environ.get("CASECRAFT_GATEWAY_PORT") or 8080)


class _HelpWithDefaults(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none to show."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _version() -> str:
    try:
        return version("casecraft")
    except PackageNotFoundError:
        return "unknown (not installed)"


def _request_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", default="out", help="folder for case_study.json, the PNGs and index.html"
    )
    parser.add_argument("--logo", help="the client's logo, a .png or .jpg file")
    parser.add_argument(
        "--components", help="comma-separated subset of hero,metrics,timeline (default: all)"
    )
    parser.add_argument("--fast", action="store_true", help="faster models, smaller images")
    parser.add_argument(
        "--fresh", action="store_true", help="structure again even if these notes are cached"
    )
    parser.add_argument(
        "--anonymize", action="store_true", help="no client or people's names; the logo unused"
    )
    parser.add_argument("--accent", help="brand accent of every image and export, e.g. #0A7C66")
    _exports(parser)
    _timeout(parser)


def _exports(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--formats",
        type=_formats,
        default=list(DEFAULT_FORMATS),
        help=f"exports to write, comma-separated from {','.join(FORMATS)}",
    )
    parser.add_argument(
        "--page-size", choices=("A4", "Letter"), help="the PDF's paper (CASECRAFT_EXPORT_PAGE_SIZE)"
    )
    parser.add_argument(
        "--template", help="folder with a page.html.j2 for index.html (CASECRAFT_TEMPLATE_DIR)"
    )


def _formats(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in FORMATS]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown format {', '.join(unknown)}; use some of {','.join(FORMATS)}"
        )
    return names


def _timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds to wait for the finished case study"
    )


def _gateway(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gateway",
        default=DEFAULT_GATEWAY,
        help="the gateway's URL (environment: CASECRAFT_GATEWAY_URL)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="casecraft", description=__doc__.splitlines()[0], formatter_class=_HelpWithDefaults
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    command = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, help: str) -> argparse.ArgumentParser:
        return command.add_parser(
            name, help=help, description=help, formatter_class=_HelpWithDefaults
        )

    up = add("up", "start the three services and print the gateway's URL; Ctrl-C stops them")
    up.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help="gateway port, 0 for any free port (environment: CASECRAFT_GATEWAY_PORT)",
    )
    up.set_defaults(run=commands.cmd_up)

    demo = add("demo", "start the services, turn one set of notes into a case study, stop")
    demo.add_argument(
        "notes",
        nargs="?",
        help="notes file, or - for standard input (default: an example shipped with casecraft)",
    )
    _request_options(demo)
    demo.add_argument(
        "--open",
        action="store_true",
        help="open the page on the finished case study and keep the services up until Ctrl-C",
    )
    demo.set_defaults(run=commands.cmd_demo)

    generate = add("generate", "send notes to a running gateway and follow the case study")
    generate.add_argument("notes", help="notes file, or - for standard input")
    _gateway(generate)
    generate.add_argument(
        "--no-wait", action="store_true", help="print the job's URL and return at once"
    )
    _request_options(generate)
    generate.set_defaults(run=commands.cmd_generate)

    watch = add("watch", "follow a job a gateway is running and write its case study")
    watch.add_argument("job", metavar="ID_OR_URL", help="the job's id, or its URL")
    _gateway(watch)
    watch.add_argument(
        "--out", default="out", help="folder for case_study.json, the PNGs and index.html"
    )
    _exports(watch)
    _timeout(watch)
    watch.set_defaults(run=commands.cmd_watch)

    keys = add("keys", "manage the gateway's API keys")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="COMMAND")
    new_key = key_commands.add_parser(
        "new", help="make a key, print it once, and the line that admits it"
    )
    new_key.add_argument("name", help="who the key is for, e.g. marketing")
    new_key.set_defaults(run=lambda args: api_keys.new(args.name))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as exc:
        raise SystemExit(f"casecraft: {exc}") from None
    except KeyboardInterrupt:
        print("casecraft: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
