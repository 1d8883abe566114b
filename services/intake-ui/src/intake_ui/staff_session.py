"""Who is signed in to ``/admin``: an encrypted cookie, because the web tier keeps no state.

The staff member's admin-api access token has to live somewhere between requests. With no
server-side session store, it travels in the browser's cookie, encrypted and authenticated
with Fernet (AES-128-CBC + HMAC-SHA256) under a key derived (HKDF) from ``UI_SESSION_SECRET``:
the browser cannot read or alter it, every replica can decrypt it, and changing the secret
signs everybody out. The cookie is ``HttpOnly``, ``Secure`` outside dev, ``SameSite=Lax`` and
scoped to ``/admin``; it expires with the token. Besides the token it holds only the staff
member's own display name and roles (to hide controls; admin-api enforces them), and a random
id of this sign-in, to which the CSRF token of staff forms is bound (see ``security``).

A long Entra ID token can outgrow one cookie (4 KB): the value is split over a few cookies.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import HTTPConnection
from starlette.responses import Response

COOKIE_NAME = "intake_ui_staff"
COOKIE_PATH = "/admin"
_CHUNK_CHARS = 3800
_MAX_CHUNKS = 4
_MAX_NAME_LENGTH = 100


class SignInRequired(Exception):
    """No valid staff cookie: the page needs a signed-in member of staff."""


@dataclass(frozen=True)
class StaffSession:
    name: str
    roles: frozenset[str]
    access_token: str
    expires_at: int
    # New at every sign-in; never shown to the page, so a token bound to it cannot be guessed.
    session_id: str = field(default_factory=lambda: secrets.token_urlsafe(16))

    def can(self, role: str) -> bool:
        return role in self.roles

    @property
    def seconds_left(self) -> int:
        return self.expires_at - int(time.time())

    @classmethod
    def __from_request__(cls, req: HTTPConnection) -> StaffSession:
        """Lets FastHTML routes declare ``staff: StaffSession``; no session → sign-in page."""
        staff = signed_in_staff(req)
        if staff is None:
            raise SignInRequired
        return staff


def signed_in_staff(conn: HTTPConnection) -> StaffSession | None:
    """The staff member this request's cookies sign in, if any: decrypted once per request and
    kept in its state, where the CSRF check, the route and the page frame all find it."""
    state = conn.scope.setdefault("state", {})
    if "staff" not in state:
        cookies: StaffCookies | None = getattr(conn.app.state, "staff_cookies", None)
        state["staff"] = cookies.read(conn.cookies) if cookies is not None else None
    staff: StaffSession | None = state["staff"]
    return staff


def display_name(value: object) -> str:
    """A printable name of reasonable length, whatever the identity provider sent."""
    text = "".join(ch for ch in str(value or "") if ch.isprintable()).strip()
    return text[:_MAX_NAME_LENGTH] or "Staff member"


class StaffCookies:
    """Writes and reads :class:`StaffSession` as encrypted cookies."""

    def __init__(self, secret: str, *, secure: bool) -> None:
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"intake-ui staff cookie v1"
        ).derive(secret.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self._secure = secure

    def read(self, cookies: Mapping[str, str]) -> StaffSession | None:
        sealed = "".join(_chunks_in(cookies))
        if not sealed:
            return None
        try:
            payload = json.loads(zlib.decompress(self._fernet.decrypt(sealed.encode())))
            staff = StaffSession(
                name=display_name(payload["n"]),
                roles=frozenset(str(role) for role in payload["r"]),
                access_token=str(payload["t"]),
                expires_at=int(payload["e"]),
                session_id=str(payload["s"]),
            )
        except (InvalidToken, ValueError, KeyError, TypeError, zlib.error):
            return None
        return staff if staff.seconds_left > 0 else None

    def write(self, response: Response, staff: StaffSession, present: Iterable[str] = ()) -> None:
        payload = {
            "n": staff.name,
            "r": sorted(staff.roles),
            "t": staff.access_token,
            "e": staff.expires_at,
            "s": staff.session_id,
        }
        compact = json.dumps(payload, separators=(",", ":")).encode()
        sealed = self._fernet.encrypt(zlib.compress(compact)).decode()
        chunks = [sealed[i : i + _CHUNK_CHARS] for i in range(0, len(sealed), _CHUNK_CHARS)]
        if len(chunks) > _MAX_CHUNKS:
            raise ValueError("the access token is too large to keep in cookies")
        max_age = max(1, staff.seconds_left)
        for index, chunk in enumerate(chunks):
            response.set_cookie(
                _chunk_name(index),
                chunk,
                max_age=max_age,
                path=COOKIE_PATH,
                secure=self._secure,
                httponly=True,
                samesite="lax",
            )
        stale = {name for name in present if _is_chunk(name)} - {
            _chunk_name(i) for i in range(len(chunks))
        }
        for name in stale:
            self._delete(response, name)

    def clear(self, response: Response, present: Iterable[str]) -> None:
        for name in present:
            if _is_chunk(name):
                self._delete(response, name)

    def _delete(self, response: Response, name: str) -> None:
        response.delete_cookie(
            name, path=COOKIE_PATH, secure=self._secure, httponly=True, samesite="lax"
        )


def _chunk_name(index: int) -> str:
    return f"{COOKIE_NAME}_{index}"


def _is_chunk(name: str) -> bool:
    prefix, _, index = name.rpartition("_")
    return prefix == COOKIE_NAME and index.isdigit()


def _chunks_in(cookies: Mapping[str, str]) -> Iterable[str]:
    for index in range(_MAX_CHUNKS):
        chunk = cookies.get(_chunk_name(index))
        if not chunk:
            return
        yield chunk
