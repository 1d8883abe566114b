import itertools
import re

import pytest

from intake_core.domain.client_id import (
    ALPHABET,
    InvalidClientId,
    check_symbol,
    is_client_id,
    new_client_id,
    normalise_client_id,
)

SHAPE = re.compile(r"CL-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def luhn_mod_32_sum(symbols: str) -> int:
    """Validation as DESIGN.md states it: from the right, check symbol at factor 1."""
    total = 0
    for position, symbol in enumerate(reversed(symbols)):
        addend = (2 if position % 2 else 1) * ALPHABET.index(symbol)
        total += addend // 32 + addend % 32
    return total % 32


def test_alphabet_is_crockford_base32() -> None:
    assert len(ALPHABET) == 32
    assert not set("ILOU") & set(ALPHABET)


def test_new_ids_have_the_pinned_shape_and_a_valid_check_symbol() -> None:
    for _ in range(2000):
        client_id = new_client_id()
        assert SHAPE.fullmatch(client_id), client_id
        assert luhn_mod_32_sum(client_id[3:].replace("-", "")) == 0


def test_every_random_symbol_is_drawn_whole_and_on_its_own() -> None:
    # 11 symbols of 5 random bits each (55 bits): any two of the 11 positions take every one of
    # the 32 * 32 pairs, which they could not if a position lost a bit or shared one with
    # another. (30,000 draws leave each pair out with odds of about 1 in 10^8.)
    payloads = [new_client_id()[3:].replace("-", "")[:11] for _ in range(30_000)]
    for first, second in itertools.combinations(range(11), 2):
        pairs = {(payload[first], payload[second]) for payload in payloads}
        assert len(pairs) == 32 * 32, (first, second)


def test_new_ids_do_not_repeat_and_are_not_sequential() -> None:
    ids = [new_client_id() for _ in range(10_000)]
    assert len(set(ids)) == len(ids)
    assert sorted(ids) != ids


def test_known_check_symbol() -> None:
    # Worked by hand: payload "00000000001" → rightmost 1 doubled = 2 → check = 32 - 2 = 30 = "Y".
    assert check_symbol("00000000001") == "Y"
    assert normalise_client_id("CL-0000-0000-001Y") == "CL-0000-0000-001Y"


@pytest.mark.parametrize(
    "typed",
    [
        "cl-0000-0000-001y",
        "CL00000000001Y",
        "0000-0000-001Y",
        " cl 0000 0000 001y ",
        "CL-OOOO-0000-00IY",
    ],
)
def test_normalisation_accepts_case_hyphens_spaces_and_confusables(typed: str) -> None:
    assert normalise_client_id(typed) == "CL-0000-0000-001Y"


def test_an_id_typed_without_prefix_may_begin_with_a_c_and_an_l_read_as_one() -> None:
    # "CL" opens a typed ID's 12 symbols only when the prefix is missing: payload "C1000000000"
    # typed with L for its 1 is that ID, not a prefix followed by ten symbols.
    assert normalise_client_id("CL00-0000-0007") == "CL-C100-0000-0007"
    assert normalise_client_id("CL-CL00-0000-0007") == "CL-C100-0000-0007"


@pytest.mark.parametrize(
    "typed", ["", "CL-", "CL-0000-0000-001", "CL-0000-0000-001Y1", "CL-0000-0000-001U", "💥"]
)
def test_malformed_ids_are_rejected(typed: str) -> None:
    with pytest.raises(InvalidClientId):
        normalise_client_id(typed)


def test_every_single_symbol_typo_is_caught() -> None:
    client_id = new_client_id()
    symbols = client_id[3:].replace("-", "")
    assert is_client_id(symbols)
    for position in range(12):
        for replacement in ALPHABET:
            if replacement == symbols[position]:
                continue
            typo = symbols[:position] + replacement + symbols[position + 1 :]
            assert not is_client_id(typo), typo


def test_adjacent_transpositions_are_mostly_caught() -> None:
    client_id = new_client_id()
    symbols = client_id[3:].replace("-", "")
    assert is_client_id(symbols)
    for position in range(11):
        a, b = symbols[position], symbols[position + 1]
        if a == b:
            continue
        swapped = symbols[:position] + b + a + symbols[position + 2 :]
        # Luhn mod N misses only the swap of the two symbols whose values sum to N-1.
        if ALPHABET.index(a) + ALPHABET.index(b) != 31:
            assert not is_client_id(swapped), swapped
