from __future__ import annotations

from datetime import timedelta

import jwt

from api.db import utcnow
from api.security.keys import Keyring

A = "a" * 40
B = "b" * 40


def token(ring: Keyring, **kw: object) -> str:
    args: dict[str, object] = {
        "audience": "kizuna:staff",
        "subject": "1",
        "token_id": "sid",
        "lifetime": timedelta(minutes=5),
    }
    args.update(kw)
    return ring.encode_token(**args)  # type: ignore[arg-type]


def test_round_trip_pins_audience() -> None:
    ring = Keyring(A)
    claims = ring.decode_token(token(ring), audience="kizuna:staff")
    assert claims is not None and claims["sub"] == "1" and claims["jti"] == "sid"
    assert ring.decode_token(token(ring), audience="kizuna:member") is None


def test_expired_and_forged_tokens_are_refused() -> None:
    ring = Keyring(A)
    expired = token(ring, now=utcnow() - timedelta(hours=1))
    assert ring.decode_token(expired, audience="kizuna:staff") is None
    forged = token(Keyring(B))
    assert ring.decode_token(forged, audience="kizuna:staff") is None
    assert ring.decode_token("not-a-token", audience="kizuna:staff") is None


def test_alg_none_is_refused() -> None:
    ring = Keyring(A)
    good = token(ring)
    header = jwt.get_unverified_header(good)
    payload = jwt.decode(good, options={"verify_signature": False})
    unsigned = jwt.encode(payload, key=None, algorithm="none", headers={"kid": header["kid"]})  # type: ignore[arg-type]
    assert ring.decode_token(unsigned, audience="kizuna:staff") is None


def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_dropped() -> None:
    old = token(Keyring(A))
    rotated = Keyring(B, previous=(A,))
    assert rotated.decode_token(old, audience="kizuna:staff") is not None
    assert Keyring(B).decode_token(old, audience="kizuna:staff") is None


def test_signatures() -> None:
    ring = Keyring(A)
    sig = ring.sign("csrf", "session-1")
    assert ring.verify_signature("csrf", "session-1", sig)
    assert not ring.verify_signature("csrf", "session-2", sig)
    assert not ring.verify_signature("tracking", "session-1", sig)
