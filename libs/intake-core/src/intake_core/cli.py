"""The ``intake`` command: developer and operator tasks."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import sys
from collections.abc import Sequence
from datetime import datetime

from intake_core.auth import ROLES, DevIssuer
from intake_core.bootstrap import open_dead_letter_queue, open_store
from intake_core.dead_letter_purge import PURGE_ACTOR, purge_dead_letters
from intake_core.devstack import Ports, run
from intake_core.domain.audit import AuditChainReport
from intake_core.logs import configure_logging
from intake_core.ports.lifetimes import DEAD_LETTER_MAX_AGE_DAYS
from intake_core.restore import (
    ErasureFileError,
    aware_time,
    erasure_line,
    list_erasures,
    read_erasures,
    run_reapply,
)
from intake_core.settings import CommonSettings, ReadCacheSettings


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


async def _with_dead_letters(action: str) -> int:
    settings = CommonSettings()
    dlq = await open_dead_letter_queue(settings)
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
    return asyncio.run(_with_dead_letters(arguments.dlq_action))


async def _purged_dead_letters(older_than_days: int, dry_run: bool) -> int:
    settings = CommonSettings()
    store = await open_store(settings)
    try:
        dlq = await open_dead_letter_queue(settings)
        try:
            report = await purge_dead_letters(
                dlq, store, actor=PURGE_ACTOR, max_age_days=older_than_days, dry_run=dry_run
            )
        finally:
            await dlq.close()
    finally:
        await store.close()
    # Ids and why only: a dead letter's body is the submission's personal data.
    for purged in report.purged:
        print(f"{purged.client_id or '-'}\t{purged.event_id}\t{purged.reason}")
    verb = "would purge" if dry_run else "purged"
    print(
        f"{verb} {len(report.purged)} of {report.examined} dead-lettered message(s) on the"
        f" {settings.bus} queue; kept {report.kept}",
        file=sys.stderr,
    )
    return 0


def _dlq_purge(arguments: argparse.Namespace) -> int:
    return asyncio.run(_purged_dead_letters(arguments.older_than_days, arguments.dry_run))


def _days_up_to_the_limit(text: str) -> int:
    days = int(text)
    if not 1 <= days <= DEAD_LETTER_MAX_AGE_DAYS:
        raise argparse.ArgumentTypeError(f"1 to {DEAD_LETTER_MAX_AGE_DAYS} days")
    return days


def _retention_run(arguments: argparse.Namespace) -> int:
    from intake_core.retention import RetentionSettings, run_retention

    settings = RetentionSettings()
    if arguments.days is not None:
        settings = settings.model_copy(update={"retention_days": arguments.days})
    configure_logging("retention", settings.log_level, settings.log_format)
    report = asyncio.run(run_retention(settings))
    summary = {
        "cutoff": report.cutoff.isoformat(),
        "erased": report.erased,
        "queueMessagesPurged": report.queue_messages_purged,
        "deadLettersPurged": report.dead_letters_purged,
        "cachedCopiesLeft": report.cached_copies_left,
        "recentErasuresFinished": report.recent_erasures_finished,
        "leftoverQueueMessagesPurged": report.leftover_queue_messages_purged,
    }
    print(json.dumps(summary))
    return _copies_left_status(report.cached_copies_left)


def _copies_left_status(copies_left: int) -> int:
    """1 when an erased record's cached copy may have survived (the cache failed): the erasures
    stand, and the copies expire at their TTL, but whoever runs the job should know."""
    return 1 if copies_left else 0


async def _verified_chain(settings: CommonSettings) -> AuditChainReport:
    store = await open_store(settings)
    try:
        return await store.verify_audit_chain()
    finally:
        await store.close()


def _audit_verify(_: argparse.Namespace) -> int:
    report = asyncio.run(_verified_chain(CommonSettings()))
    print(json.dumps(dataclasses.asdict(report)))
    return 0 if report.intact else 1


def _aware_time(text: str) -> datetime:
    moment = aware_time(text)
    if moment is None:
        raise argparse.ArgumentTypeError(
            "an ISO 8601 time with its UTC offset, as in 2026-05-01T12:00:00Z"
        )
    return moment


def _erasures_list(arguments: argparse.Namespace) -> int:
    settings = CommonSettings()
    erasures = asyncio.run(list_erasures(settings, arguments.since))
    for erasure in erasures:
        print(erasure_line(erasure))
    print(
        f"{len(erasures)} record(s) erased since {arguments.since.isoformat()}"
        f" on the {settings.store} store",
        file=sys.stderr,
    )
    return 0


def _erasures_reapply(arguments: argparse.Namespace) -> int:
    # The whole file is checked before the store is opened: a bad line erases nothing.
    try:
        if arguments.file == "-":
            erasures = read_erasures(sys.stdin.buffer)
        else:
            with open(arguments.file, "rb") as stream:
                erasures = read_erasures(stream)
    except (ErasureFileError, OSError) as error:
        problem = error.strerror if isinstance(error, OSError) else str(error)
        print(f"{arguments.file}: {problem}; nothing was erased", file=sys.stderr)
        return 2
    report = asyncio.run(run_reapply(ReadCacheSettings(), erasures))
    for outcome, client_ids in (
        ("reapplied", report.reapplied),
        ("already erased", report.already_erased),
        ("not found", report.not_found),
    ):
        for client_id in client_ids:
            print(f"{client_id}\t{outcome}", file=sys.stderr)
    summary = {
        "reapplied": len(report.reapplied),
        "alreadyErased": len(report.already_erased),
        "notFound": len(report.not_found),
        "queueMessagesPurged": report.queue_messages_purged,
        "cachedCopiesLeft": report.cached_copies_left,
    }
    print(json.dumps(summary))
    return _copies_left_status(report.cached_copies_left)


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

    dlq = commands.add_parser("dlq", help="dead-lettered notifications (BUS=…)")
    dlq_commands = dlq.add_subparsers(dest="dlq_action", required=True)
    dlq_commands.add_parser("list", help="one line per dead letter").set_defaults(handler=_dlq)
    dlq_commands.add_parser("replay", help="move them all back to the queue").set_defaults(
        handler=_dlq
    )
    purge = dlq_commands.add_parser(
        "purge",
        help="remove the dead letters of erased records, and those too old to replay",
    )
    purge.add_argument(
        "--older-than-days", type=_days_up_to_the_limit, default=DEAD_LETTER_MAX_AGE_DAYS,
        help=f"remove those whose event is older (default and most {DEAD_LETTER_MAX_AGE_DAYS},"
        " the notifier's ledger: a later replay could email twice)",
    )  # fmt: skip
    purge.add_argument(
        "--dry-run", action="store_true", help="print what would go (ids only); remove nothing"
    )
    purge.set_defaults(handler=_dlq_purge)

    retention = commands.add_parser("retention", help="personal data retention")
    retention_commands = retention.add_subparsers(dest="retention_command", required=True)
    apply = retention_commands.add_parser("run", help="erase records older than RETENTION_DAYS")
    apply.add_argument("--days", type=int, default=None, help="override RETENTION_DAYS")
    apply.set_defaults(handler=_retention_run)

    erasures = commands.add_parser(
        "erasures", help="after a restore: the erasures the restored store lost, made again"
    )
    erasure_commands = erasures.add_subparsers(dest="erasures_command", required=True)
    listing = erasure_commands.add_parser(
        "list", help="print the records erased since TIME, one JSON line each (the old store)"
    )
    listing.add_argument(
        "--since", type=_aware_time, required=True, metavar="TIME",
        help="the restore point, ISO 8601 with a UTC offset (2026-05-01T12:00:00Z)",
    )  # fmt: skip
    listing.set_defaults(handler=_erasures_list)
    reapply = erasure_commands.add_parser(
        "reapply", help="erase again each record FILE lists that is not erased (the restored store)"
    )
    reapply.add_argument(
        "file", metavar="FILE", help="the lines `erasures list` printed; - reads standard input"
    )
    reapply.set_defaults(handler=_erasures_reapply)

    audit = commands.add_parser("audit", help="the audit trail")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_commands.add_parser("verify", help="check the hash chain; exit 1 if broken")
    verify.set_defaults(handler=_audit_verify)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parser().parse_args(argv)
    return int(arguments.handler(arguments))


if __name__ == "__main__":
    sys.exit(main())
