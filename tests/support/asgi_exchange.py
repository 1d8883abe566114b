"""A request whose client leaves mid-body, sent to an ASGI app directly (no HTTP client can)."""

from __future__ import annotations

from typing import Any


async def leave_mid_body(
    app: Any, method: str, path: str, headers: dict[str, str], state: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Send the first half of a body saying more is coming, then a disconnect; return what the
    app sent back (nothing, when it is right: nobody is left to read it)."""
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"status":', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "server": ("testserver", 80), "client": ("203.0.113.9", 50000),
        "headers": [(name.lower().encode(), value.encode()) for name, value in headers.items()],
        "state": dict(state or {}),
    }  # fmt: skip
    await app(scope, receive, send)
    return sent
