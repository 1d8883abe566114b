"""Random bytes fetched a block at a time: never handed out twice, not even across a fork."""

from __future__ import annotations

import os
import uuid

import pytest

from intake_core.domain.entropy import BLOCK_BYTES, random_bits, random_bytes, random_uuid


def test_bytes_are_never_handed_out_twice_across_blocks() -> None:
    # Seven bytes at a time (a Client ID's draw) through several blocks and their seams.
    draws = [random_bytes(7) for _ in range(3 * BLOCK_BYTES // 7)]
    assert {len(draw) for draw in draws} == {7}
    assert len(set(draws)) == len(draws)


def test_a_draw_larger_than_a_block_is_whole() -> None:
    assert len(random_bytes(BLOCK_BYTES + 1)) == BLOCK_BYTES + 1


@pytest.mark.parametrize("count", [1, 7, 8, 55, 64, 100])
def test_random_bits_stay_within_their_width_and_use_all_of_it(count: int) -> None:
    values = [random_bits(count) for _ in range(2000)]
    assert all(0 <= value < 2**count for value in values)
    # Every bit position is set somewhere: nothing is lost in the shift.
    combined = 0
    for value in values:
        combined |= value
    assert combined == 2**count - 1


def test_random_uuids_are_version_4_and_distinct() -> None:
    ids = [random_uuid() for _ in range(5000)]
    assert {(u.version, u.variant) for u in ids} == {(4, uuid.RFC_4122)}
    assert len(set(ids)) == len(ids)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_does_not_repeat_its_parents_bytes() -> None:
    random_bytes(1)  # the parent holds a block that is mostly unused
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read_end)
        os.write(write_end, random_bytes(32))
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        childs = pipe.read()
    os.waitpid(child, 0)
    assert len(childs) == 32
    assert childs != random_bytes(32)
