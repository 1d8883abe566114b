"""Staff sign-in with Microsoft Entra ID: OpenID Connect authorization code flow with PKCE.

``begin`` builds the authorize URL and a :class:`SignInAttempt` (state, nonce, PKCE verifier)
that the caller keeps in the signed session cookie for the round trip only. ``complete``
checks the state, redeems the code at the token endpoint and validates the ID token (RS256,
signature from the provider's JWKS with rotation by ``kid``, issuer, audience, expiry, nonce).
The access token it returns is for admin-api, which validates it itself.

The discovery document and the JWKS are cached in memory for an hour: a cache of public data,
not state, so any replica can finish a sign-in another one began.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from intake_ui.api_client import json_object
from intake_ui.staff_session import StaffSession, display_name

logger = logging.getLogger(__name__)

ATTEMPT_MAX_AGE_SECONDS = 600
CACHE_SECONDS = 3600
LEEWAY_SECONDS = 60


class SignInFailed(Exception):
    """The sign-in cannot be completed; the message is safe to show to the staff member."""


@dataclass(frozen=True)
class SignInAttempt:
    state: str
    nonce: str
    verifier: str
    started_at: int

    @classmethod
    def new(cls) -> SignInAttempt:
        return cls(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(64),
            started_at=int(time.time()),
        )

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode()).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def as_session(self) -> dict[str, Any]:
        return {"s": self.state, "n": self.nonce, "v": self.verifier, "t": self.started_at}

    @classmethod
    def from_session(cls, value: object) -> SignInAttempt | None:
        if not isinstance(value, dict):
            return None
        try:
            return cls(str(value["s"]), str(value["n"]), str(value["v"]), int(value["t"]))
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class EntraSignIn:
    """One per process; talks to the identity provider over ``http``."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        authority: str,
        client_id: str,
        scopes: str,
        client_secret: str | None = None,
    ) -> None:
        self._http = http
        self._discovery_url = f"{authority.rstrip('/')}/v2.0/.well-known/openid-configuration"
        self._client_id = client_id
        self._client_secret = client_secret
        self._scopes = scopes
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, jwt.PyJWKSet] | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def begin(self, redirect_url: str) -> tuple[str, SignInAttempt]:
        metadata = await self._provider()
        attempt = SignInAttempt.new()
        query = {
            "client_id": self._client_id,
            "response_type": "code",
            "response_mode": "query",
            "redirect_uri": redirect_url,
            "scope": self._scopes,
            "state": attempt.state,
            "nonce": attempt.nonce,
            "code_challenge": attempt.challenge,
            "code_challenge_method": "S256",
        }
        return f"{metadata.authorization_endpoint}?{urlencode(query)}", attempt

    async def complete(
        self, attempt: SignInAttempt | None, state: str, code: str, redirect_url: str
    ) -> StaffSession:
        if attempt is None or not hmac.compare_digest(attempt.state.encode(), state.encode()):
            raise SignInFailed("This sign-in link is not the one we started. Please sign in again.")
        if time.time() - attempt.started_at > ATTEMPT_MAX_AGE_SECONDS:
            raise SignInFailed("The sign-in took too long. Please sign in again.")
        metadata = await self._provider()
        tokens = await self._redeem(metadata, attempt, code, redirect_url)
        identity = await self._validated_id_token(metadata, tokens.get("id_token"), attempt.nonce)
        access_token = tokens.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise SignInFailed("Microsoft Entra ID did not issue an access token.")
        return StaffSession(
            name=display_name(identity.get("name") or identity.get("preferred_username")),
            roles=_roles(access_token, identity),
            access_token=access_token,
            expires_at=_expiry(access_token, tokens.get("expires_in")),
        )

    async def _provider(self) -> ProviderMetadata:
        if self._metadata and time.monotonic() - self._metadata[0] < CACHE_SECONDS:
            return self._metadata[1]
        document = await self._get_json(self._discovery_url)
        try:
            metadata = ProviderMetadata(
                issuer=str(document["issuer"]),
                authorization_endpoint=str(document["authorization_endpoint"]),
                token_endpoint=str(document["token_endpoint"]),
                jwks_uri=str(document["jwks_uri"]),
            )
        except KeyError as missing:
            raise SignInFailed("The sign-in service sent an incomplete configuration.") from missing
        self._metadata = (time.monotonic(), metadata)
        return metadata

    async def _redeem(
        self, metadata: ProviderMetadata, attempt: SignInAttempt, code: str, redirect_url: str
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "client_id": self._client_id,
            "code": code,
            "redirect_uri": redirect_url,
            "code_verifier": attempt.verifier,
        }
        if self._client_secret:
            form["client_secret"] = self._client_secret
        try:
            response = await self._http.post(metadata.token_endpoint, data=form)
        except httpx.HTTPError as error:
            logger.warning("token endpoint unreachable: %s", type(error).__name__)
            raise SignInFailed("We could not reach Microsoft Entra ID. Try again.") from None
        body = json_object(response)
        if response.status_code != 200:
            logger.warning("token endpoint refused the code: %s", body.get("error", "?"))
            raise SignInFailed("Microsoft Entra ID refused the sign-in. Please sign in again.")
        return body

    async def _validated_id_token(
        self, metadata: ProviderMetadata, id_token: object, nonce: str
    ) -> dict[str, Any]:
        if not isinstance(id_token, str):
            raise SignInFailed("Microsoft Entra ID did not send an ID token.")
        try:
            key = await self._signing_key(metadata, jwt.get_unverified_header(id_token).get("kid"))
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256"],
                audience=self._client_id,
                issuer=metadata.issuer,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "nonce"]},
            )
        except jwt.PyJWTError as error:
            logger.warning("ID token refused: %s", error)
            raise SignInFailed("The sign-in could not be verified. Please sign in again.") from None
        if not hmac.compare_digest(str(claims["nonce"]).encode(), nonce.encode()):
            raise SignInFailed("The sign-in could not be verified. Please sign in again.")
        return claims

    async def _signing_key(self, metadata: ProviderMetadata, kid: object) -> jwt.PyJWK:
        """The key named ``kid``; an unknown one refreshes the JWKS once (key rotation)."""
        for refresh in (False, True):
            keys = await self._key_set(metadata, refresh=refresh)
            for key in keys.keys:
                if key.key_id == kid:
                    return key
        raise jwt.InvalidKeyError(f"no signing key {kid!r}")

    async def _key_set(self, metadata: ProviderMetadata, *, refresh: bool) -> jwt.PyJWKSet:
        if not refresh and self._keys and time.monotonic() - self._keys[0] < CACHE_SECONDS:
            return self._keys[1]
        keys = jwt.PyJWKSet.from_dict(await self._get_json(metadata.jwks_uri))
        self._keys = (time.monotonic(), keys)
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url)
        except httpx.HTTPError as error:
            logger.warning("identity provider unreachable: %s", type(error).__name__)
            raise SignInFailed("We could not reach Microsoft Entra ID. Try again.") from None
        body = json_object(response)
        if response.status_code != 200 or not body:
            raise SignInFailed("Microsoft Entra ID is not answering as expected. Try again.")
        return body


def _unverified_claims(token: str) -> dict[str, Any]:
    """Reading our own copy of a token admin-api verifies: only to hide controls and expire."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims


def _roles(access_token: str, identity: dict[str, Any]) -> frozenset[str]:
    roles = _unverified_claims(access_token).get("roles") or identity.get("roles") or []
    return (
        frozenset(role for role in roles if isinstance(role, str))
        if isinstance(roles, list)
        else frozenset()
    )


def _expiry(access_token: str, expires_in: object) -> int:
    exp = _unverified_claims(access_token).get("exp")
    if isinstance(exp, int):
        return exp
    seconds = expires_in if isinstance(expires_in, int) else 3600
    return int(time.time()) + max(60, min(seconds, 24 * 3600))
