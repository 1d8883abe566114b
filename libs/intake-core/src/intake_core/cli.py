"""The ``intake`` command: developer and operator tasks."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Protocol

from intake_core.adapters.local_queue import DeadLetter, LocalQueue
from intake_core.adapters.service_bus import ServiceBusQueue
from intake_core.auth import ROLES, DevIssuer
from intake_core.bootstrap import open_consumer
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


class DeadLetterQueue(Protocol):
    async def dead_letters(self) -> list[DeadLetter]: ...

    async def replay_dead_letters(self) -> int: ...

    async def close(self) -> None: ...


async def _with_dead_letters(action: str) -> int:
    settings = CommonSettings()
    queue = await open_consumer(settings)
    assert isinstance(queue, LocalQueue | ServiceBusQueue)
    dlq: DeadLetterQueue = queue
    try:
        if action == "replay":
            print(f"replayed {await dlq.replay_dead_letters()} message(s) to {settings.bus} queue")
            return 0
        letters = await dlq.dead_letters()
        for letter in letters:
            print(
                f"{letter.message_id}\t{letter.delivery_count}\t{letter.reason}\t{letter.description}"
            )
        print(
            f"{len(letters)} dead-lettered message(s) on the {settings.bus} queue", file=sys.stderr
        )
        return 0
    finally:
        await dlq.close()


def _dlq(arguments: argparse.Namespace) -> int:
    return asyncio.run(_with_dead_letters(arguments.action))


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

    dlq = commands.add_parser("dlq", help="list or replay dead-lettered notifications (BUS=…)")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.set_defaults(handler=_dlq)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    return int(arguments.handler(arguments))


if __name__ == "__main__":
    sys.exit(main())
