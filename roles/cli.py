"""The ``watchwall`` command: each package contributes its own sub-commands."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from watchwall.config.errors import UserError

# Each module has ``register(subparsers)``; a sub-command sets ``func(args) -> int``.
COMMAND_MODULES = (
    "watchwall.config.cli",
    "watchwall.metrics.cli",
    "watchwall.cameras.cli",
    "watchwall.video.ingest.probe_cli",
    "watchwall.video.record.evidence_cli",
    "watchwall.dashboard.evidence_marks_cli",
    "watchwall.audit.cli",
    "watchwall.reports.cli",
    "watchwall.dashboard.api_cli",
    "watchwall.dashboard.user_cli",
    "watchwall.cluster.cli",
    "watchwall.roles.ingest",
    "watchwall.roles.serve",
    "watchwall.roles.web",
    "watchwall.roles.node",
    "watchwall.incidents.cli",
    "watchwall.dashboard.checkin_video_cli",
)
# Commands parsed from their own module alone, so that their process imports nothing else
# (an ingest node must not load Dash, plotly or the socket.io server; a report is made in time).
LIGHT_COMMANDS = {
    "node": "watchwall.roles.node",
    "cluster": "watchwall.cluster.cli",
    "ingest": "watchwall.roles.ingest",
    "probe": "watchwall.video.ingest.probe_cli",
    "report": "watchwall.reports.cli",  # a report process needs none of the pages' imports (1.6 s of CPU)
}


def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="watchwall",
        description="Video supervision and command-centre dashboard for community-corrections centres.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # that package has no commands yet
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else argv
    command = next((word for word in words if not word.startswith("-")), None)
    parser = build_parser((LIGHT_COMMANDS[command],) if command in LIGHT_COMMANDS else COMMAND_MODULES)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        print(f"watchwall {args.command}: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
