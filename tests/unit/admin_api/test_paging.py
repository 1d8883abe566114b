"""PageTokens: signed, bound to the query, refused when signed elsewhere or edited."""

from __future__ import annotations

import pytest

from admin_api.paging import InvalidPageToken, PageTokens

SECRET = b"s" * 32


def test_a_token_opens_to_the_position_it_was_signed_with():
    tokens = PageTokens(SECRET)
    position = '["2026-03-01T12:00:00.000000+00:00", "CL-AAAA-BBBB-CCCC"]'
    assert tokens.open(tokens.sign(position, "query"), "query") == position


def test_a_token_from_another_secret_is_refused():
    token = PageTokens(b"another secret, also 32 bytes long").sign("position", "query")
    with pytest.raises(InvalidPageToken):
        PageTokens(SECRET).open(token, "query")


def test_a_token_for_another_query_is_refused():
    tokens = PageTokens(SECRET)
    with pytest.raises(InvalidPageToken):
        tokens.open(tokens.sign("position", "query"), "other query")


@pytest.mark.parametrize("token", ["", ".", "..", "x.y", "!!!.###", "é.é", "a" * 3000, "\x00.\x00"])
def test_junk_is_refused_not_crashed_on(token):
    with pytest.raises(InvalidPageToken):
        PageTokens(SECRET).open(token, "query")
