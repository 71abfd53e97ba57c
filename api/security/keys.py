"""Signing keys and JSON Web Tokens.

One master secret (``KIZUNA_SECRET_KEY``; in dev generated once into ``var/secrets.json``)
is never used directly: each purpose ("staff-token", "csrf", later "member-token",
"tracking") gets its own key derived with HMAC-SHA256. Every token names its key id (``kid``)
so keys can be rotated: old keys stay in ``KIZUNA_PREVIOUS_SECRET_KEYS`` until the longest
token lifetime has passed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

from api.db import utcnow
from api.security.files import private_dir, private_file

ALGORITHM = "HS256"
ISSUER = "kizuna"


def dev_secret(var_dir: Path) -> str:
    """The development secret, created on first use with owner-only permissions."""
    path = var_dir / "secrets.json"
    if path.exists():
        private_file(path)  # tighten a file left readable by an older version
        return str(json.loads(path.read_text("utf-8"))["secret_key"])
    private_dir(var_dir)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"secret_key": key}, fh)
    return key


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Keyring:
    current: str
    previous: tuple[str, ...] = ()

    def derive(self, purpose: str, secret: str | None = None) -> bytes:
        base = (secret or self.current).encode()
        return hmac.new(base, f"kizuna:{purpose}".encode(), hashlib.sha256).digest()

    def _by_kid(self) -> dict[str, str]:
        return {key_id(s): s for s in (self.current, *self.previous)}

    def sign(self, purpose: str, message: str) -> str:
        return hmac.new(self.derive(purpose), message.encode(), hashlib.sha256).hexdigest()

    def verify_signature(self, purpose: str, message: str, signature: str) -> bool:
        for secret in (self.current, *self.previous):
            expected = hmac.new(self.derive(purpose, secret), message.encode(), hashlib.sha256)
            if hmac.compare_digest(expected.hexdigest(), signature):
                return True
        return False

    def encode_token(
        self,
        *,
        audience: str,
        subject: str,
        token_id: str,
        lifetime: timedelta,
        claims: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> str:
        now = now or utcnow()
        payload = {
            **(claims or {}),
            "iss": ISSUER,
            "aud": audience,
            "sub": subject,
            "jti": token_id,
            "iat": int(now.timestamp()),
            "exp": int((now + lifetime).timestamp()),
        }
        return jwt.encode(
            payload,
            self.derive(f"token:{audience}"),
            algorithm=ALGORITHM,
            headers={"kid": key_id(self.current)},
        )

    def decode_token(self, token: str, *, audience: str) -> dict[str, Any] | None:
        """The verified claims, or None for any token that is forged, expired or not ours."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            return None
        secret = self._by_kid().get(str(header.get("kid", "")))
        if secret is None or header.get("alg") != ALGORITHM:
            return None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.derive(f"token:{audience}", secret),
                algorithms=[ALGORITHM],
                audience=audience,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "aud", "iss", "sub", "jti"]},
                leeway=5,
            )
        except jwt.PyJWTError:
            return None
        return claims
