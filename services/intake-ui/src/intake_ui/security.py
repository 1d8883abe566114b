"""What keeps the pages safe: security headers, a strict CSP, CSRF tokens, refused bodies."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from intake_ui.staff_session import SignInRequired, signed_in_staff

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'"
)


def security_headers(*, https: bool) -> dict[str, str]:
    """Headers for every response; a response that sets its own Cache-Control keeps it."""
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
        "referrer-policy": "no-referrer",
        "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "cross-origin-opener-policy": "same-origin",
        "cross-origin-resource-policy": "same-origin",
        "cache-control": "no-store",
    }
    if https:
        headers["strict-transport-security"] = "max-age=31536000; includeSubDomains"
    return headers


CSRF_FIELD = "csrf_token"
# POSTs under /admin that are made before there is a staff session.
STAFF_ACTIONS_WITHOUT_SIGN_IN = frozenset({"/admin/dev-sign-in"})
_CSRF_SESSION_KEY = "csrf"


def session_cookie_name(*, secure: bool) -> str:
    """``__Host-`` when the cookie is Secure: the browser then refuses it from a sibling
    subdomain or over plain http, so nobody can plant a session (and its CSRF token) in it."""
    return "__Host-intake_ui_session" if secure else "intake_ui_session"


def csrf_token(conn: HTTPConnection) -> str:
    """The token to put in a form: the session's (created on first use; the cookie holds
    nothing else), bound to the staff sign-in when the request carries one."""
    token = conn.session.get(_CSRF_SESSION_KEY)
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        conn.session[_CSRF_SESSION_KEY] = token
    return _bound_to_staff(conn, token)


def csrf_token_matches(conn: HTTPConnection, sent: object) -> bool:
    token = conn.session.get(_CSRF_SESSION_KEY)
    if not isinstance(sent, str) or not isinstance(token, str):
        return False
    return hmac.compare_digest(sent.encode(), _bound_to_staff(conn, token).encode())


def _bound_to_staff(conn: HTTPConnection, token: str) -> str:
    """With a staff cookie, the session token keyed with that sign-in's id.

    The session cookie and the staff cookie are separate: a session (and its token) planted
    from an anonymous visit must not carry a staff action. The sign-in id lives only in the
    encrypted staff cookie, so a token for it cannot be made without that sign-in.
    """
    staff = signed_in_staff(conn)
    if staff is None:
        return token
    digest = hmac.new(token.encode(), b"staff:" + staff.session_id.encode(), hashlib.sha256)
    return digest.hexdigest()


def started_on_another_site(conn: HTTPConnection) -> bool:
    """The browser says another site started this request (``Sec-Fetch-Site: cross-site``).

    Same origin, same site, typed or bookmarked (``none``) pass, and so do browsers that do not
    send the header (older ones): this guards GET links that act in the staff member's name.
    """
    return conn.headers.get("sec-fetch-site", "").strip().lower() == "cross-site"


def session_cookie_sent(conn: HTTPConnection) -> bool:
    return str(conn.app.state.session_cookie) in conn.cookies


async def require_csrf_token(req: Request) -> None:
    """Beforeware: every POST must echo the session's token (synchroniser token pattern).

    A POST to ``/admin`` (the search) or under ``/admin/`` needs a staff sign-in, except
    signing in itself.
    The form's own routes skip it and check the token themselves (``CHECKS_OWN_TOKEN`` in
    onboarding), so a refused form comes back with the answers instead of an error page.
    """
    if req.method != "POST":
        return
    path = req.url.path
    in_staff_area = path == "/admin" or path.startswith("/admin/")
    needs_staff = in_staff_area and path not in STAFF_ACTIONS_WITHOUT_SIGN_IN
    if needs_staff and signed_in_staff(req) is None:
        # The staff session ended since the form was shown (its token was bound to it): sign
        # in again, as any staff page would ask, instead of "the form has expired".
        raise SignInRequired
    form = await req.form()
    if not csrf_token_matches(req, form.get(CSRF_FIELD)):
        raise HTTPException(403, "The form could not be verified.")


async def refused_body_page(request: Request, status: int) -> Response:
    """What ``BodyLimit`` answers (413 over the limit, 400 for a ``Content-Length`` that is not a
    number): the app's own error page, rendered by its exception handler like any other."""
    render = request.app.exception_handlers[status]
    response: Response = await render(request, HTTPException(status))
    return response
