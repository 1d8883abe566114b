"""Bearer tokens for staff: verify JWTs (RS256) and, in dev, issue them locally.

Production tokens come from Entra ID and are checked against its JWKS. The dev issuer keeps an
RSA key in the data directory so ``intake dev-token`` and admin-api agree without any cloud.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from intake_core.settings import ADMIN_AUDIENCE, DEV_ISSUER


class Role(StrEnum):
    """admin-api's app roles (pinned in DESIGN.md), as Entra ID puts them in a token's ``roles``."""

    READ = "Submissions.Read"  # search and view records
    MANAGE = "Submissions.Manage"  # change a record's status
    EXPORT = "Submissions.Export"  # CSV and subject exports
    ERASE = "Submissions.Erase"
    AUDIT_READ = "Audit.Read"


ROLES = tuple(Role)
LEEWAY_SECONDS = 30


class InvalidToken(Exception):
    """Missing, malformed, expired, wrongly signed, or for another issuer or audience."""


@dataclass(frozen=True)
class Staff:
    """An authenticated member of staff: ``subject`` is what the audit trail records."""

    subject: str
    roles: frozenset[str]

    def has(self, role: str) -> bool:
        return role in self.roles


class DevIssuer:
    """A local token issuer whose private key lives in ``<data dir>/dev-issuer/``."""

    KEY_ID = "dev-1"

    def __init__(self, data_dir: Path) -> None:
        self._key_path = data_dir / "dev-issuer" / "private-key.pem"

    def _private_key(self) -> rsa.RSAPrivateKey:
        if not self._key_path.exists():
            self._create_key()
        key = serialization.load_pem_private_key(self._key_path.read_bytes(), password=None)
        assert isinstance(key, rsa.RSAPrivateKey)
        return key

    def _create_key(self) -> None:
        self._key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        temporary = self._key_path.with_suffix(f".{uuid.uuid4().hex}.tmp")
        temporary.write_bytes(pem)
        temporary.chmod(0o600)
        try:
            # link() fails if another process created the key first; theirs wins.
            os.link(temporary, self._key_path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()

    def public_key(self) -> rsa.RSAPublicKey:
        return self._private_key().public_key()

    def issue(
        self,
        subject: str,
        roles: Iterable[str],
        lifetime_seconds: int = 3600,
        audience: str = ADMIN_AUDIENCE,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": DEV_ISSUER,
            "aud": audience,
            "sub": subject,
            "roles": sorted(set(roles)),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime_seconds,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(
            claims, self._private_key(), algorithm="RS256", headers={"kid": self.KEY_ID}
        )


MAX_SUBJECT_LENGTH = 256


def _names_someone(subject: object) -> bool:
    """A ``sub`` worth recording: text, not blank, no line breaks or control characters."""
    return (
        isinstance(subject, str)
        and 0 < len(subject) <= MAX_SUBJECT_LENGTH
        and subject.strip() == subject
        and subject.isprintable()
    )


class TokenVerifier:
    """Checks signature (RS256 only), issuer, audience and expiry; reads roles."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        dev_issuer: DevIssuer | None = None,
        jwks_url: str | None = None,
    ) -> None:
        if (dev_issuer is None) == (jwks_url is None):
            raise ValueError("give exactly one key source: dev_issuer or jwks_url")
        self._issuer = issuer
        self._audience = audience
        self._dev_key = dev_issuer.public_key() if dev_issuer else None
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=False) if jwks_url else None

    def _signing_key(self, token: str) -> object:
        if self._dev_key is not None:
            return self._dev_key
        assert self._jwks is not None
        return self._jwks.get_signing_key_from_jwt(token).key

    def verify(self, token: str) -> Staff:
        try:
            claims = jwt.decode(
                token,
                self._signing_key(token),  # type: ignore[arg-type]
                algorithms=["RS256"],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        subject = claims["sub"]
        if not _names_someone(subject):
            # The audit trail records who did what by this claim: an empty or made-up one
            # would record nobody.
            raise InvalidToken("the sub claim must name someone (1 to 256 visible characters)")
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise InvalidToken("the roles claim must be a list of strings")
        return Staff(subject=subject, roles=frozenset(roles))
