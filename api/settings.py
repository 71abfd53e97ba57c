"""Process settings: one pydantic-settings class, read from the environment and ``kizuna.toml``.

Values that staff may change while Kizuna runs (sender name, mail footer, password rules) are
not here: they live in the settings table (``api.livesettings``).

Environment variables use the usual names where one exists (``DATABASE_URL``, ``REDIS_URL``,
``SMTP_URL``) and ``KIZUNA_*`` otherwise. An invalid value stops start-up with
:class:`SettingsError`, whose message names the variable and says how to fix it.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Field name -> the environment variable people should set (used in error messages).
ENV_NAMES: dict[str, str] = {
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "smtp_url": "SMTP_URL",
}


def env_name(field_name: str) -> str:
    return ENV_NAMES.get(field_name, f"KIZUNA_{field_name.upper()}")


class SettingsError(Exception):
    """Configuration is wrong; the message is meant for the person starting Kizuna."""


def _alias(name: str) -> Any:
    return AliasChoices(name, f"KIZUNA_{name}", name.lower())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="KIZUNA_",
        extra="ignore",
        toml_file=os.environ.get("KIZUNA_CONFIG", "kizuna.toml"),
        validate_default=True,
        frozen=True,
        populate_by_name=True,
    )

    env: Literal["dev", "production", "test"] = Field(
        default="dev", description="dev (local defaults), production (strict), test"
    )
    var_dir: Path = Field(default=PROJECT_ROOT / "var", description="runtime data: db, outbox")
    content_dir: Path = Field(default=PROJECT_ROOT / "content")
    theme_dir: Path = Field(default=PROJECT_ROOT / "themes" / "default")
    site_dir: Path = Field(default=PROJECT_ROOT / "site")

    database_url: str = Field(default="", validation_alias=_alias("DATABASE_URL"))
    redis_url: str = Field(default="", validation_alias=_alias("REDIS_URL"))
    smtp_url: str = Field(default="", validation_alias=_alias("SMTP_URL"))
    smtp_ca_file: Path | None = Field(default=None, description="extra CA bundle for SMTP TLS")
    files_dir: Path | None = Field(
        default=None,
        description="uploaded files of the customer database (default var/files); never under "
        "the served site",
    )

    import_max_bytes: int = Field(
        default=1 << 30, ge=1, description="largest import file accepted (bytes, default 1 GiB)"
    )
    import_retention_days: int = Field(
        default=30,
        ge=1,
        description="days an import's uploaded file is kept after its last step (done, undone, "
        "stopped); its counts, error report and undo stay",
    )
    import_abandoned_days: int = Field(
        default=2, ge=1, description="days an uploaded file that was never imported is kept"
    )
    export_leftover_hours: int = Field(
        default=24, ge=1, description="hours after which a leftover export file in var/exports goes"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    base_url: str = Field(default="", description="public URL of the site, e.g. https://example.jp")

    secret_key: str = Field(
        default="",
        description="at least 32 random characters; signs tokens. Generated into var/ in dev.",
    )
    previous_secret_keys: list[str] = Field(
        default_factory=list, description="old keys still accepted while tokens signed by them live"
    )
    staff_session_minutes: int = Field(
        default=8 * 60, ge=5, le=7 * 24 * 60, description="a staff login lasts at most this long"
    )
    staff_idle_minutes: int = Field(
        default=120, ge=5, le=7 * 24 * 60, description="…and ends after this long without use"
    )

    member_token_minutes: int = Field(
        default=10,
        ge=1,
        le=60,
        description="a member's access token lasts this long; the refresh session renews it",
    )
    member_session_days: int = Field(
        default=30,
        ge=1,
        le=365,
        description="a member's log-in (refresh session) lasts at most this long",
    )

    worker_threads: int = Field(default=2, ge=1, le=64)
    worker_processes: int = Field(default=2, ge=1, le=64)
    embedded_worker: bool = Field(
        default=True, description="run workers inside the web process when REDIS_URL is not set"
    )
    job_lease_seconds: int = Field(
        default=300,
        ge=3,
        description="a running job without a heartbeat this long is presumed dead",
    )
    janitor_interval_seconds: float = Field(default=30.0, gt=0)

    login_rate_limit: int = Field(default=10, ge=1, description="login attempts per minute per IP")
    trusted_proxies: list[str] = Field(default_factory=list)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    # ---------------------------------------------------------------- validation

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value:
            return value
        scheme = urlsplit(value).scheme.split("+")[0]
        if scheme not in {"sqlite", "postgresql", "postgres"}:
            raise ValueError(
                "must start with sqlite:/// or postgresql:// "
                "(for example postgresql://kizuna@127.0.0.1/kizuna)"
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"redis", "rediss", "unix"}:
            raise ValueError("must look like redis://127.0.0.1:6379/0")
        return value

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"smtp", "smtps", "smtp+starttls"}:
            raise ValueError(
                "must look like smtp://user:password@host:587 "
                "(smtp+starttls:// to require STARTTLS, smtps:// for implicit TLS)"
            )
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        if value and urlsplit(value).scheme not in {"http", "https"}:
            raise ValueError("must be an http:// or https:// URL, e.g. https://www.example.jp")
        return value.rstrip("/")

    @field_validator("secret_key")
    @classmethod
    def _check_secret(cls, value: str) -> str:
        if value and len(value) < 32:
            raise ValueError("must be at least 32 characters (try: openssl rand -base64 48)")
        return value

    @model_validator(mode="after")
    def _files_not_served(self) -> Settings:
        files = self.effective_files_dir.resolve()
        for served in (self.site_dir, self.content_dir, self.theme_dir):
            if files.is_relative_to(served.resolve()):
                raise ValueError(
                    f"KIZUNA_FILES_DIR ({files}) must not be inside {served}: uploaded files "
                    "are served to permitted staff only, never as part of the site"
                )
        return self

    @model_validator(mode="after")
    def _production_rules(self) -> Settings:
        if self.env == "production":
            if not self.secret_key:
                raise ValueError(
                    "KIZUNA_SECRET_KEY must be set when KIZUNA_ENV=production "
                    "(try: openssl rand -base64 48)"
                )
            if not self.base_url.startswith("https://"):
                raise ValueError(
                    "KIZUNA_BASE_URL must be an https:// URL when KIZUNA_ENV=production"
                )
        return self

    # ---------------------------------------------------------------- derived values

    @property
    def is_dev(self) -> bool:
        return self.env != "production"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'kizuna.db'}"

    @property
    def effective_base_url(self) -> str:
        return self.base_url or f"http://{self.host}:{self.port}"

    @property
    def effective_files_dir(self) -> Path:
        return self.files_dir or self.var_dir / "files"

    @property
    def imports_dir(self) -> Path:
        return self.var_dir / "imports"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def uses_outbox(self) -> bool:
        return not self.smtp_url

    @property
    def public_dir(self) -> Path:
        return self.site_dir / "public"

    @property
    def meta_dir(self) -> Path:
        return self.site_dir / "meta"

    @property
    def secure_cookies(self) -> bool:
        return self.effective_base_url.startswith("https://")


def format_validation_error(exc: ValidationError) -> str:
    lines = ["Kizuna cannot start: the configuration is not valid."]
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p != "__root__"]
        name = env_name(loc[0]) if loc else "configuration"
        message = err.get("msg", "invalid").removeprefix("Value error, ")
        value = err.get("input")
        shown = (
            "" if not loc or "secret" in loc[0] or isinstance(value, dict) else f" (got {value!r})"
        )
        lines.append(f"  {name}: {message}{shown}")
    lines.append("Set the variable in the environment or in kizuna.toml, then start again.")
    return "\n".join(lines)


def load_settings(**overrides: Any) -> Settings:
    """Read settings now; raise :class:`SettingsError` with a readable message if invalid."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc)) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
