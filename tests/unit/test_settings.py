from __future__ import annotations

import pytest

from api.settings import SettingsError, load_settings


def test_defaults_are_a_working_dev_setup(tmp_path: pytest.TempPathFactory) -> None:
    settings = load_settings(var_dir=tmp_path)
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.uses_outbox
    assert settings.effective_base_url == "http://127.0.0.1:8000"
    assert not settings.secure_cookies


def test_invalid_database_url_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/kizuna")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "DATABASE_URL" in str(info.value)
    assert "postgresql://" in str(info.value)


def test_invalid_port_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_PORT", "eighty")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "KIZUNA_PORT" in str(info.value)


def test_short_secret_is_refused_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_SECRET_KEY", "hunter2")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "KIZUNA_SECRET_KEY" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_production_requires_secret_and_https(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIZUNA_ENV", "production")
    with pytest.raises(SettingsError, match="KIZUNA_SECRET_KEY"):
        load_settings()
    monkeypatch.setenv("KIZUNA_SECRET_KEY", "x" * 40)
    with pytest.raises(SettingsError, match="KIZUNA_BASE_URL"):
        load_settings()
    monkeypatch.setenv("KIZUNA_BASE_URL", "https://www.example.jp")
    settings = load_settings()
    assert settings.secure_cookies


def test_usual_env_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://kizuna@db.internal/kizuna")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("SMTP_URL", "smtp+starttls://u:p@smtp.example.jp:587")
    settings = load_settings()
    assert settings.database_url == "postgresql://kizuna@db.internal/kizuna"
    assert settings.redis_url.startswith("redis://")
    assert not settings.uses_outbox


def test_toml_file(tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "kizuna.toml"  # type: ignore[operator]
    config.write_text(
        'port = 9001\nlog_level = "DEBUG"\ndatabase_url = "postgresql://kizuna@db/kizuna"\n'
        'trusted_proxies = ["127.0.0.1"]\n',
        "utf-8",
    )
    monkeypatch.setenv("KIZUNA_CONFIG", str(config))
    from api.settings import Settings

    monkeypatch.setitem(Settings.model_config, "toml_file", str(config))
    settings = load_settings()
    assert settings.port == 9001
    assert settings.log_level == "DEBUG"
    assert settings.database_url == "postgresql://kizuna@db/kizuna"
    assert settings.trusted_proxies == ["127.0.0.1"]
