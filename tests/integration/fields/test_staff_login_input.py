"""Log-in and look-up with input that is not an e-mail address, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.db import Database
from api.errors import NotFound, Unauthenticated
from api.principal import cli_principal
from api.security.throttle import MemoryCounterStore
from api.staff import services

PW = "a long enough passphrase"


@pytest.fixture
def database_url(any_database_url: str) -> str:
    return any_database_url


def attempt(db: Database, counters: MemoryCounterStore, email: str, password: str = PW) -> None:
    attempt = services.begin_login(counters, email=email, ip="192.0.2.1", ip_limit=1000)
    services.authenticate(
        db, counters, attempt, password=password, user_agent="pytest", lifetime=timedelta(hours=1)
    )


def test_hostile_addresses_fail_like_unknown_ones_each_in_its_own_bucket(db: Database) -> None:
    with db.transaction() as s:
        services.create_staff(
            s, cli_principal("tests"), email="taro@example.jp", name="太郎", role="admin",
            password=PW,
        )  # fmt: skip
    counters = MemoryCounterStore()
    hostile = ["\x00", "taro@example.jp\x00", "taro\u202e@example.jp", "taro@example.jp\u2028"]
    for email in hostile * 3:  # 12 failures, more than an account's limit, spread over 4 inputs
        with pytest.raises(Unauthenticated) as info:
            attempt(db, counters, email)
        assert info.value.code == "invalid_credentials"
    attempt(db, counters, "ＴＡＲＯ＠ＥＸＡＭＰＬＥ．ＪＰ")  # the real account is not held up
    with db.transaction() as s:
        with pytest.raises(NotFound):
            services.find_staff(s, "taro@example.jp\x00")
        assert services.find_staff(s, " Taro@Example.JP\u3000").email == "taro@example.jp"
