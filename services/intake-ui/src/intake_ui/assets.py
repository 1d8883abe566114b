"""Static assets under content-hashed URLs, cacheable for a year by browsers and CDNs.

``/static/vendor/pico.min.css`` is published as ``/static/vendor/pico.min.3f2a9c1d5e7b.css``:
a changed file gets a new URL, so a long ``immutable`` cache is always safe. Files are read
once when the app is built and served from memory (gzip when the browser accepts it), before
the session middleware, so asset responses never carry a cookie that would defeat a CDN.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

STATIC_DIR = Path(__file__).parent / "static"
URL_PREFIX = "/static/"
IMMUTABLE = "public, max-age=31536000, immutable"
_SERVED_SUFFIXES = frozenset({".css", ".js", ".svg", ".png", ".ico", ".woff2"})
_COMPRESSIBLE = frozenset({".css", ".js", ".svg"})


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


class AssetManifest:
    """Maps a logical name (``app.css``) to its fingerprinted URL and content."""

    def __init__(self, directory: Path = STATIC_DIR) -> None:
        self._urls: dict[str, str] = {}
        self._assets: dict[str, Asset] = {}
        for path in sorted(directory.rglob("*")):
            if path.is_file() and path.suffix in _SERVED_SUFFIXES:
                self._add(directory, path)

    def _add(self, directory: Path, path: Path) -> None:
        body = path.read_bytes()
        digest = hashlib.sha256(body).hexdigest()[:12]
        logical = path.relative_to(directory).as_posix()
        url = f"{URL_PREFIX}{logical[: -len(path.suffix)]}.{digest}{path.suffix}"
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        if media_type.startswith("text/") or path.suffix in {".js", ".svg"}:
            media_type += "; charset=utf-8"
        gzipped = gzip.compress(body, mtime=0) if path.suffix in _COMPRESSIBLE else None
        self._urls[logical] = url
        self._assets[url] = Asset(body, gzipped, media_type, f'"{digest}"')

    def url(self, logical: str) -> str:
        """The URL to put in the page; a typo fails loudly when the page is built."""
        return self._urls[logical]

    def get(self, url: str) -> Asset | None:
        return self._assets.get(url)


class FingerprintedAssets:
    """ASGI middleware answering ``/static/…`` from the manifest; everything else passes on."""

    def __init__(self, app: ASGIApp, manifest: AssetManifest) -> None:
        self._app = app
        self._manifest = manifest

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(URL_PREFIX):
            await self._app(scope, receive, send)
            return
        response = self._respond(scope)
        await response(scope, receive, send)

    def _respond(self, scope: Scope) -> Response:
        asset = self._manifest.get(scope["path"])
        if asset is None or scope["method"] not in {"GET", "HEAD"}:
            status = 404 if asset is None else 405
            return Response(status_code=status, headers={"cache-control": "no-store"})
        request_headers = Headers(scope=scope)
        headers = {"cache-control": IMMUTABLE, "etag": asset.etag, "vary": "Accept-Encoding"}
        if request_headers.get("if-none-match") == asset.etag:
            return Response(status_code=304, headers=headers)
        body = asset.body
        if asset.gzipped is not None and "gzip" in request_headers.get("accept-encoding", ""):
            body = asset.gzipped
            headers["content-encoding"] = "gzip"
        return Response(body, media_type=asset.media_type, headers=headers)
