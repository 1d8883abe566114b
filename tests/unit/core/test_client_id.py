import itertools
import re

import pytest

from intake_core.domain.client_id import (
    ALPHABET,
    MIN_FRAGMENT,
    InvalidClientId,
    check_symbol,
    client_id_forms,
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


def _compact(client_id: str) -> str:
    return client_id.replace("-", "").replace("L", "1")


def test_every_piece_of_an_id_has_a_form_the_id_contains() -> None:
    for _ in range(200):
        client_id = new_client_id()
        compact = _compact(client_id)
        for start, end in itertools.combinations(range(len(compact) + 1), 2):
            piece = compact[start:end]
            if len(piece) >= MIN_FRAGMENT:
                assert any(form in client_id for form in client_id_forms(piece)), piece


def test_no_form_of_a_piece_an_id_lacks_is_in_it() -> None:
    """The forms find an ID exactly when its compact form holds the piece: a hyphen in a form
    lines up only with a hyphen of the ID."""
    client_id = new_client_id()
    others = [_compact(new_client_id()) for _ in range(300)]
    for other in others:
        for start in range(len(other) - MIN_FRAGMENT + 1):
            piece = other[start : start + MIN_FRAGMENT + start % 4]
            held = piece in _compact(client_id)
            assert any(form in client_id for form in client_id_forms(piece)) == held, piece


@pytest.mark.parametrize(
    ("typed", "forms"),
    [
        ("7k2m9x4p", ["7K2M-9X4P", "7K2-M9X4-P", "7K-2M9X-4P", "7-K2M9-X4P"]),
        ("7KOM 9I", ["7K0M-91", "7K0-M91", "7K-0M91", "7-K0M9-1"]),
        ("cl7k2m9x4pabcd", ["CL-7K2M-9X4P-ABCD"]),
        ("CL-7K2M-9X4P-ABCD", ["CL-7K2M-9X4P-ABCD"]),
        ("L7K2M", ["L-7K2M", "17K2-M", "17K-2M", "17-K2M", "1-7K2M"]),
    ],
)
def test_a_piece_is_normalised_as_a_typed_id_is(typed: str, forms: list[str]) -> None:
    assert client_id_forms(typed) == forms


@pytest.mark.parametrize(
    "text",
    ["7K2M", "7-K-2-M", "Acme", "Hughes", "7K2M9X4PU", "ada@example.com", "CL-7K2M-9X4P-ABCDE",
     "7K2M9X4PABCDE", "", "     ", "7K2M_9X4P", "\uff17\uff2b\uff12\uff2d\uff19"],
)  # fmt: skip
def test_text_that_cannot_be_a_piece_of_five_symbols_or_more_has_no_forms(text: str) -> None:
    assert client_id_forms(text) == []
