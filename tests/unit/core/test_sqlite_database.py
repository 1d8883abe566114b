"""Group commit in the SQLite base: concurrent writes share commits but stay atomic each."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from intake_core.adapters.sqlite_base import SqliteDatabase, execute
from intake_core.ports.store import StoreUnavailable
from support.sqlite_writer import thread_held, writer_held

SCHEMA = "CREATE TABLE IF NOT EXISTS items (name TEXT PRIMARY KEY, n INTEGER NOT NULL);"


class Refused(Exception):
    pass


async def test_a_failing_write_rolls_back_alone_while_its_batch_commits(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA)
    await db.open()

    def insert(name: str, fail: bool = False):
        def work(connection: sqlite3.Connection) -> str:
            connection.execute("INSERT INTO items VALUES (?, 1)", (name,))
            if fail:
                raise Refused(name)  # after writing: the savepoint must undo the insert
            return name

        return work

    results = await asyncio.gather(
        *(db.write(insert(f"item-{n}", fail=n % 7 == 3)) for n in range(100)),
        return_exceptions=True,
    )
    failed = [r for r in results if isinstance(r, Refused)]
    assert len(failed) == len([n for n in range(100) if n % 7 == 3])
    rows = await db.read(lambda c: [r[0] for r in c.execute("SELECT name FROM items")])
    assert sorted(rows) == sorted(f"item-{n}" for n in range(100) if n % 7 != 3)

    with pytest.raises(sqlite3.IntegrityError):
        await db.write(insert("item-0"))
    await db.close()


async def test_writes_run_again_after_a_failure_in_their_batch_count_once(tmp_path: Path) -> None:
    """A batch runs its writes together, without savepoints; when one fails, the batch is rolled
    back and run again, each write in its own savepoint. The first run must leave no trace."""
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA)
    await db.open()
    await db.write(execute("INSERT INTO items VALUES ('counter', 0)"))
    runs = 0

    def bump(fail: bool):
        def work(connection: sqlite3.Connection) -> int:
            nonlocal runs
            runs += 1
            connection.execute("UPDATE items SET n = n + 1 WHERE name = 'counter'")
            if fail:
                raise Refused("after the update")
            return int(connection.execute("SELECT n FROM items").fetchone()[0])

        return work

    async with writer_held(db):  # so the sixty writes queue up as one batch
        writes = [asyncio.create_task(db.write(bump(fail=n == 30))) for n in range(60)]
    results = await asyncio.gather(*writes, return_exceptions=True)
    # Together up to the failing 31st, then all sixty apart.
    assert runs == 31 + 60
    assert sum(isinstance(result, Refused) for result in results) == 1
    counted = [result for result in results if isinstance(result, int)]
    assert sorted(counted) == list(range(1, 60))  # each sees the count of the second run
    assert await db.read(lambda c: c.execute("SELECT n FROM items").fetchone()[0]) == 59
    await db.close()


async def test_a_write_alone_in_its_batch_that_fails_leaves_nothing(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA)
    await db.open()

    def insert_then_fail(connection: sqlite3.Connection) -> None:
        connection.execute("INSERT INTO items VALUES ('half', 1)")
        raise Refused("after the insert")

    with pytest.raises(Refused):
        await db.write(insert_then_fail)
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM items").fetchone()[0]) == 0
    assert await db.write(execute("INSERT INTO items VALUES ('next', 1)")) == 1
    await db.close()


async def test_a_write_that_returns_its_cursor_is_refused_and_rolled_back(tmp_path: Path) -> None:
    """A cursor freed on the event loop's thread resets its statement there, while the writer
    may be running that statement again (SQLITE_MISUSE: the benchmark's seeding hit it)."""
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA)
    await db.open()
    with pytest.raises(TypeError, match="not its cursor"):
        await db.write(lambda c: c.execute("INSERT INTO items VALUES ('escaped', 1)"))
    assert await db.read(lambda c: c.execute("SELECT count(*) FROM items").fetchone()[0]) == 0
    await db.close()


async def test_the_statement_helper_returns_how_many_rows_changed(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA)
    await db.open()
    for n in range(5):
        assert await db.write(execute("INSERT INTO items VALUES (?, ?)", (f"item-{n}", n))) == 1
    assert await db.write(execute("UPDATE items SET n = n + 1 WHERE n >= ?", (3,))) == 2
    assert await db.write(execute("DELETE FROM items WHERE name = 'none'")) == 0
    await db.close()


async def test_the_files_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    # They hold personal data; a default umask (022) would leave them readable by every user.
    previous = os.umask(0o022)
    try:
        db = SqliteDatabase(tmp_path / "data" / "t.db", SCHEMA)
        await db.open()
        await db.write(execute("INSERT INTO items VALUES ('x', 1)"))
        files = sorted((tmp_path / "data").iterdir())
        modes = {path.name: stat.S_IMODE(path.stat().st_mode) for path in files}
        await db.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
    assert {"t.db", "t.db-wal", "t.db-shm"} <= set(modes)
    assert set(modes.values()) == {0o600}, modes


async def test_writes_after_close_fail_as_unavailable(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA)
    await db.open()
    await db.close()
    with pytest.raises(StoreUnavailable):
        await db.write(execute("INSERT INTO items VALUES ('x', 1)"))


async def test_a_locked_database_is_unavailable_and_writes_nothing(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA, busy_timeout_seconds=0.1)
    await db.open()
    blocker = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    with pytest.raises(StoreUnavailable):
        await db.write(execute("INSERT INTO items VALUES ('x', 1)"))
    blocker.execute("ROLLBACK")
    blocker.close()
    await db.write(execute("INSERT INTO items VALUES ('y', 1)"))
    assert await db.read(lambda c: [r[0] for r in c.execute("SELECT name FROM items")]) == ["y"]
    await db.close()


async def test_a_write_waits_for_another_connections_lock_and_then_commits(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA, busy_timeout_seconds=5)
    await db.open()
    blocker = sqlite3.connect(tmp_path / "t.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    blocker.execute("INSERT INTO items VALUES ('first', 1)")
    write = asyncio.create_task(db.write(execute("INSERT INTO items VALUES ('x', 2)")))
    await asyncio.sleep(0.05)
    assert not write.done(), "the write should be waiting for the lock"
    blocker.execute("COMMIT")
    blocker.close()
    await write
    rows = await db.read(lambda c: [tuple(r) for r in c.execute("SELECT * FROM items ORDER BY n")])
    assert rows == [("first", 1), ("x", 2)]
    await db.close()


async def test_the_log_is_checkpointed_in_the_background_not_by_commits(tmp_path: Path) -> None:
    import time

    path = tmp_path / "checkpointed.db"
    db = SqliteDatabase(path, SCHEMA)
    await db.open()
    size_after_open = path.stat().st_size

    def many_rows(connection: sqlite3.Connection) -> None:
        connection.executemany(
            "INSERT INTO items VALUES (?, ?)", ((f"{n:06d}" + "x" * 1000, n) for n in range(3000))
        )

    await db.write(many_rows)  # ~3 MB: more than SQLite's own 1,000-page checkpoint threshold
    assert path.stat().st_size == size_after_open, "the commit itself must not checkpoint"
    deadline = time.monotonic() + 5
    # A checkpoint may be caught half way (the file growing), so wait for all of it.
    while path.stat().st_size <= 3_000_000 and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert path.stat().st_size > 3_000_000, "the checkpointer copies the log into the file"

    await db.close()
    assert not [t for t in threading.enumerate() if t.name == "checkpointed-ckpt"]


def test_an_sqlite_too_old_for_the_store_is_refused_by_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite3, "sqlite_version_info", (3, 37, 2))
    monkeypatch.setattr(sqlite3, "sqlite_version", "3.37.2")
    with pytest.raises(
        RuntimeError, match=r"needs SQLite 3\.38 or later; this Python has 3\.37\.2"
    ):
        SqliteDatabase(tmp_path / "t.db", SCHEMA)


async def test_reads_queued_together_each_get_their_own_answer(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db", SCHEMA)
    await db.open()
    await db.write(execute("INSERT INTO items VALUES ('a', 1), ('b', 2), ('c', 3)"))

    def value_of(name: str):
        return lambda c: c.execute("SELECT n FROM items WHERE name = ?", (name,)).fetchone()[0]

    async with thread_held(db.read):  # so the reads queue up behind a slow one
        reads = [asyncio.create_task(db.read(value_of(name))) for name in "abcab"]
        broken = asyncio.create_task(db.read(lambda c: c.execute("SELECT nothing FROM items")))
        refused = asyncio.create_task(db.read(lambda c: (_ for _ in ()).throw(Refused("mine"))))
    assert await asyncio.gather(*reads) == [1, 2, 3, 1, 2]
    with pytest.raises(StoreUnavailable):  # an SQLite error is the store's
        await broken
    with pytest.raises(Refused):  # anything else is the caller's own
        await refused
    await db.close()
    with pytest.raises(StoreUnavailable, match="closed"):
        await db.read(value_of("a"))
