"""Member tokens on SQLite and PostgreSQL: log-in sets the cookies; the token carries the
member, their groups and only the manifest's fields; forged, ``none``, expired, wrong-audience
and wrong-algorithm tokens are anonymous; the cache of verified tokens never outlives a
log-out, a suspension, a password change or a change of groups or fields; the refresh
session renews the token."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import timedelta
from typing import Any

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from api.customers import records
from api.groups import services as groups
from api.members import services as members
from api.members.identity import AUDIENCE, Identity, MemberAuth
from api.principal import Principal
from api.runtime import Runtime
from api.security.keys import ISSUER, key_id
from api.security.revocation import now_ms
from tests.integration.members.conftest import PASSWORD, Members, write_manifest


def identify(auth: MemberAuth, cookies: dict[str, str]) -> Identity:
    return asyncio.run(auth.identify(cookies))


def log_in(client: TestClient[Litestar], email: str = "doctor@example.jp") -> Any:
    return client.post("/api/members/login", json={"email": email, "password": PASSWORD})


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def cookies_of(client: TestClient[Litestar], runtime: Runtime) -> dict[str, str]:
    auth = runtime.member_auth
    return {k: v for k, v in client.cookies.items() if k in (auth.access_name, auth.refresh_name)}


def test_login_sets_cookies_and_the_token_carries_groups_and_manifest_fields(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    response = log_in(client)
    assert response.status_code == 200, response.text
    assert response.json()["member"]["name"] == "医師 一郎"
    assert response.headers["cache-control"] == "no-store"
    set_cookie = response.headers.get_list("set-cookie")
    assert all("HttpOnly" in c and "SameSite=lax" in c and "Path=/" in c for c in set_cookie)
    auth = runtime.member_auth
    token = client.cookies[auth.access_name]
    claims = claims_of(token)
    assert claims["aud"] == AUDIENCE and claims["sub"] == str(people.doctor)
    assert claims["g"] == ["doctors"]
    assert claims["f"] == {"plan": "gold", "specialty": "oncology"}  # not name, not email
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "HS256" and header["kid"] == key_id(runtime.keyring.current)
    me = client.get("/api/members/me").json()
    assert me["member"]["email"] == "doctor@example.jp" and me["groups"] == ["doctors"]
    identity = identify(auth, cookies_of(client, runtime))
    assert identity.member is not None and identity.member.id == people.doctor
    assert identity.member.fields["plan"] == "gold" and identity.set_cookies == []
    assert auth.peek(cookies_of(client, runtime)) == identity.member  # the fast path knows it


def test_the_cached_entry_of_a_token_issued_here_is_what_decoding_it_gives(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    """A log-in caches its token without decoding it: the entry must be the decoded one."""
    auth = runtime.member_auth
    claims = members.MemberClaims(
        people.doctor, "session-1", ("doctors", "staff"),
        {"plan": "gold", "tags": ["a", "b"], "since": "2026-01-02", "none": None},
    )  # fmt: skip
    token, entry = auth._issue(claims, now_ms())
    assert entry == auth._entry(token)
    response = log_in(client)
    assert response.status_code == 200, response.text
    token = client.cookies[auth.access_name]
    assert auth._cache[token] == auth._entry(token)


@pytest.mark.filterwarnings("ignore:The HMAC key is 32 bytes long")  # the HS512 forgery
def test_forged_none_expired_wrong_audience_and_algorithm_are_anonymous(
    runtime: Runtime, people: Members
) -> None:
    auth = runtime.member_auth
    keyring = runtime.keyring
    good = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": str(people.doctor), "jti": "x", "sid": "s",
        "g": ["doctors"], "f": {"plan": "gold", "specialty": "x"}, "iatm": now_ms(),
        "iat": now_ms() // 1000, "exp": 4_000_000_000,
    }  # fmt: skip
    kid = {"kid": key_id(keyring.current)}
    secret = keyring.derive(f"token:{AUDIENCE}")
    forged = [
        jwt.encode(good, "not the key at all, but long enough 0123456789", "HS256", headers=kid),
        jwt.encode(good, None, algorithm="none", headers=kid),  # type: ignore[arg-type]
        jwt.encode({**good, "exp": 1_000}, secret, "HS256", headers=kid),  # expired
        jwt.encode({**good, "aud": "kizuna:staff"}, secret, "HS256", headers=kid),
        jwt.encode(
            {**good, "aud": "kizuna:staff"},
            keyring.derive("token:kizuna:staff"),
            "HS256",
            headers=kid,
        ),  # a staff-audience token signed with the staff key
        jwt.encode(good, secret, "HS512", headers=kid),  # wrong algorithm, right key
        jwt.encode(good, secret, "HS256", headers={"kid": "unknown"}),
        "not.a.token",
        "",
    ]
    for token in forged:
        assert identify(auth, {auth.access_name: token}).member is None, token
        assert auth.peek({auth.access_name: token}) is None
    # The same claims signed the right way are a member (so the refusals above are real).
    right = jwt.encode(good, secret, "HS256", headers=kid)
    assert identify(auth, {auth.access_name: right}).member is not None


def test_logout_reaches_the_token_cache_at_once(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    assert log_in(client).status_code == 200
    auth = runtime.member_auth
    kept = cookies_of(client, runtime)  # a copy someone kept (another tab, a thief)
    assert identify(auth, kept).member is not None  # verified and cached
    response = client.post("/api/members/logout")
    assert response.status_code == 204
    assert auth.access_name not in client.cookies
    assert identify(auth, kept).member is None
    assert identify(auth, {auth.access_name: kept[auth.access_name]}).member is None
    assert client.get("/api/members/me").json() == {"member": None, "groups": []}


def test_a_login_over_another_ends_the_replaced_session(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    auth = runtime.member_auth
    assert log_in(client).status_code == 200
    first = cookies_of(client, runtime)
    assert log_in(client, "pharma@example.jp").status_code == 200
    assert identify(auth, first).member is None
    assert client.get("/api/members/me").json()["member"]["email"] == "pharma@example.jp"


def test_suspension_and_password_change_end_cached_tokens(
    client: TestClient[Litestar], runtime: Runtime, people: Members, actor: Principal
) -> None:
    auth = runtime.member_auth
    assert log_in(client).status_code == 200
    kept = cookies_of(client, runtime)
    assert identify(auth, kept).member is not None
    with runtime.db.transaction() as session:
        members.set_status(session, actor, people.doctor, "suspended")
    assert identify(auth, kept).member is None
    assert auth.peek(kept) is None
    assert log_in(client).status_code == 401  # suspended: the ordinary "not correct"
    with runtime.db.transaction() as session:
        members.set_status(session, actor, people.doctor, "active")
    assert log_in(client).status_code == 200
    kept = cookies_of(client, runtime)
    assert identify(auth, kept).member is not None
    with runtime.db.transaction() as session:
        members.set_password(session, actor, people.doctor, "another member password 99")
    assert identify(auth, kept).member is None
    assert log_in(client).status_code == 401


def test_a_change_of_groups_or_fields_renews_the_token_on_the_next_request(
    client: TestClient[Litestar], runtime: Runtime, people: Members, actor: Principal
) -> None:
    auth = runtime.member_auth
    assert log_in(client).status_code == 200
    cookies = cookies_of(client, runtime)
    assert identify(auth, cookies).member.groups == {"doctors"}  # type: ignore[union-attr]
    with runtime.db.transaction() as session:
        groups.change_members(session, actor, "pharmacists", [people.doctor], add=True)
    identity = identify(auth, cookies)
    assert identity.member is not None
    assert identity.member.groups == {"doctors", "pharmacists"}
    (renewed,) = identity.set_cookies
    assert renewed.key == auth.access_name and renewed.httponly and renewed.samesite == "lax"
    assert claims_of(str(renewed.value))["g"] == ["doctors", "pharmacists"]
    cookies[auth.access_name] = str(renewed.value)
    assert identify(auth, cookies).set_cookies == []  # the renewed token is cached
    # A staff edit of a field through the record service.
    with runtime.db.transaction() as session:
        row = records.get_record(session, actor, "members", people.doctor)
        records.update_record(
            session, actor, "members", people.doctor, {"plan": "platinum"}, version=row["version"]
        )
    identity = identify(auth, cookies)
    assert identity.member is not None and identity.member.fields["plan"] == "platinum"
    assert identity.set_cookies
    # A rolled-back change revokes nothing.
    fresh = {**cookies, auth.access_name: str(identity.set_cookies[0].value)}
    try:
        with runtime.db.transaction() as session:
            groups.change_members(session, actor, "pharmacists", [people.doctor], add=False)
            raise RuntimeError("abort")
    except RuntimeError:
        pass
    assert identify(auth, fresh).set_cookies == []


def test_refresh_renews_a_missing_or_expired_token_and_a_new_manifest_field(
    client: TestClient[Litestar], runtime: Runtime, people: Members
) -> None:
    auth = runtime.member_auth
    assert log_in(client).status_code == 200
    refresh = client.cookies[auth.refresh_name]
    identity = identify(auth, {auth.refresh_name: refresh})
    assert identity.member is not None and identity.member.id == people.doctor
    assert [c.key for c in identity.set_cookies] == [auth.access_name]
    # The manifest now reads "name" too: tokens without it are renewed.
    write_manifest(runtime, ["name", "plan"])
    token = str(identity.set_cookies[0].value)
    identity = identify(auth, {auth.access_name: token, auth.refresh_name: refresh})
    assert identity.member is not None and identity.member.fields == {
        "name": "医師 一郎",
        "plan": "gold",
    }
    # An expired token with a good refresh cookie: renewed.
    with runtime.db.read() as session:
        design = members.member_design(session)
        claims = members.claims_of(session, design, people.doctor, "sid", ["name", "plan"])
    assert claims is not None
    old = runtime.keyring.encode_token(
        audience=AUDIENCE, subject=str(people.doctor), token_id="t", lifetime=timedelta(seconds=-60),
        claims={"sid": refresh.split(".")[0], "g": [], "f": {}, "iatm": 1},
    )  # fmt: skip
    identity = identify(auth, {auth.access_name: old, auth.refresh_name: refresh})
    assert identity.member is not None and identity.set_cookies
    # A wrong refresh secret: anonymous, and both cookies are cleared.
    bad = refresh.split(".")[0] + ".wrong"
    identity = identify(auth, {auth.refresh_name: bad})
    assert identity.member is None
    assert {c.key for c in identity.set_cookies} == {auth.access_name, auth.refresh_name}
    assert all(c.max_age == 0 for c in identity.set_cookies)


def test_bulk_edits_and_design_changes_of_the_member_table_reach_the_cache(
    client: TestClient[Litestar], runtime: Runtime, people: Members, actor: Principal
) -> None:
    from api.customers import bulk, services
    from api.customers.definitions import parse_field
    from api.jobs import services as jobs
    from api.jobs.models import JobState
    from api.jobs.runner import run_job

    auth = runtime.member_auth
    assert log_in(client).status_code == 200
    cookies = cookies_of(client, runtime)
    assert identify(auth, cookies).set_cookies == []
    with runtime.db.transaction() as session:  # a bulk "set field" job over the member table
        job_id, _ = bulk.start(
            session, actor, "members", "set_field", ids=[people.doctor], field="plan",
            value="platinum",
        )  # fmt: skip
    run_job(runtime, bulk.KIND, job_id)  # here, unless the app's embedded worker has it
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with runtime.db.read() as session:
            if jobs.get_job(session, job_id).state == JobState.done:
                break
        time.sleep(0.05)
    identity = identify(auth, cookies)
    assert identity.member is not None and identity.member.fields["plan"] == "platinum"
    cookies[auth.access_name] = str(identity.set_cookies[0].value)
    assert identify(auth, cookies).set_cookies == []
    with runtime.db.transaction() as session:  # a design change of the member table
        services.add_field(session, actor, "members", parse_field({"key": "note", "type": "text"}))
    assert auth.peek(cookies) is None  # every member's token is stale
    assert identify(auth, cookies).set_cookies


def test_member_of_gives_the_rules_view_of_a_record(
    runtime: Runtime, people: Members, actor: Principal
) -> None:
    with runtime.db.transaction() as session:
        member = members.member_of(session, people.doctor)
        assert member is not None and member.groups == {"doctors"} and member.active
        assert member.fields["specialty"] == "oncology" and member.fields["email"]
        members.set_status(session, actor, people.doctor, "suspended")
        suspended = members.member_of(session, people.doctor, ["plan"])
        assert suspended is not None and not suspended.active
        assert dict(suspended.fields) == {"plan": "gold"}
        assert members.member_of(session, 999_999) is None
