"""The ``intake`` command: developer and operator tasks."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from intake_core.auth import ROLES, DevIssuer
from intake_core.devstack import Ports, run
from intake_core.settings import CommonSettings


def _dev_token(arguments: argparse.Namespace) -> int:
    settings = CommonSettings()
    if not settings.is_dev:
        print("dev tokens are only for ENVIRONMENT=dev or test", file=sys.stderr)
        return 2
    token = DevIssuer(settings.data_dir).issue(
        arguments.sub, arguments.role, lifetime_seconds=arguments.minutes * 60
    )
    print(token)
    return 0


def _run(arguments: argparse.Namespace) -> int:
    ui, intake_api, admin_api, notify = arguments.ports
    return run(Ports(ui=ui, intake_api=intake_api, admin_api=admin_api, notify_metrics=notify))


def _ports(text: str) -> tuple[int, int, int, int]:
    numbers = tuple(int(part) for part in text.split(","))
    if len(numbers) != 4:
        raise argparse.ArgumentTypeError("four ports: ui,intake-api,admin-api,notify-metrics")
    ui, intake_api, admin_api, notify = numbers
    return ui, intake_api, admin_api, notify


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="intake", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)

    token = commands.add_parser("dev-token", help="print a signed dev JWT for admin-api")
    token.add_argument("--role", action="append", default=[], choices=ROLES, help="repeatable")
    token.add_argument("--sub", default="dev@example.com", help="the actor in the audit trail")
    token.add_argument("--minutes", type=int, default=60, help="lifetime (default 60)")
    token.set_defaults(handler=_dev_token)

    start = commands.add_parser("run", help="start every service on embedded adapters")
    start.add_argument(
        "--ports", type=_ports, default=(8000, 8001, 8002, 8003),
        help="ui,intake-api,admin-api,notify-metrics (default 8000,8001,8002,8003)",
    )  # fmt: skip
    start.set_defaults(handler=_run)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    return int(arguments.handler(arguments))


if __name__ == "__main__":
    sys.exit(main())
