"""Configuration from the environment (and a `.env` file), validated once at start-up.

Every problem is found in one pass: field checks (types, ranges, token prefixes, URL shapes) are collected by
pydantic, and the checks that need several variables (a Slack bot token needs a signing secret or an app token) are
added to the same `ValidationError` by `_check_companions`. `config_problems` turns that error into one line per
variable, and never includes a value: the error objects carry no input (`hide_input_in_errors`), and messages only
name the variable and what is expected.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

LogFormat = Literal["json", "text"]
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DATABASE_SCHEMES = ("sqlite", "postgresql")

# Slack token kinds by prefix: people paste the wrong one into the wrong variable more than anything else.
SLACK_PREFIXES = {"xoxb-": "a bot token", "xapp-": "an app-level token", "xoxp-": "a user token"}


def _slack_kind(value: str) -> str:
    return next((kind for prefix, kind in SLACK_PREFIXES.items() if value.startswith(prefix)), "not a Slack token")


def _expect_prefix(value: SecretStr | None, prefix: str, where: str) -> SecretStr | None:
    if value is None:
        return None
    raw = value.get_secret_value()
    if raw != raw.strip():
        raise ValueError("has spaces or a line break around it; paste the token alone")
    if not raw.startswith(prefix):
        # Name what it looks like (by its public prefix), never the value.
        raise ValueError(f"must start with {prefix} ({where}); this one is {_slack_kind(raw)}")
    return value


def redact_url(url: str) -> str:
    """A database URL with its password replaced by '***' (user, host and database stay readable)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))


# How `re-bot config check` shows a setting left unset, where "not set" alone would not say what happens.
_UNSET_MEANS = {
    "RE_BOT_CONTENT_DIR": "the packaged content",
    "RE_BOT_CONTENT_EXTRA": "no community content",
    "RE_BOT_LOG_LEVEL": "INFO for run, WARNING otherwise",
    "RE_BOT_CACHE_DIR": "$XDG_CACHE_HOME/re-bot, else ~/.cache/re-bot",
    "SLACK_API_URL": "Slack's own",
    "SLACK_CLIENT_ID": "one workspace, with SLACK_BOT_TOKEN",
    "DISCORD_API_URL": "Discord's own",
}


class Settings(BaseSettings):
    """Every variable of the contract. Secrets are `SecretStr`, so they print as '**********'."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # `SLACK_APP_TOKEN=` in a compose file or .env means "not set"
        hide_input_in_errors=True,  # a ValidationError printed or logged never shows a token
    )

    database_url: str = Field("sqlite:///re-bot.db", validation_alias="RE_BOT_DATABASE_URL")
    content_dir: str | None = Field(None, validation_alias="RE_BOT_CONTENT_DIR")
    # A community's own topics, papers, prompts and tracks, merged over the content (new ids add, same ids replace).
    content_extra: str | None = Field(None, validation_alias="RE_BOT_CONTENT_EXTRA")
    # `re-bot run` reloads the content when a file under the content folders changes (SIGHUP always reloads).
    content_watch: bool = Field(False, validation_alias="RE_BOT_CONTENT_WATCH")
    # Days the redacted text of /re-faq questions is kept for `re-bot report`; 0 stores no text, only counts.
    query_retention_days: int = Field(90, ge=0, le=3650, validation_alias="RE_BOT_QUERY_RETENTION_DAYS")
    http_host: str = Field("0.0.0.0", validation_alias="RE_BOT_HTTP_HOST")
    http_port: int = Field(3000, validation_alias="RE_BOT_HTTP_PORT")  # 0: any free port (logged)

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    # OAuth installs in many workspaces (instead of one SLACK_BOT_TOKEN): the app's credentials from Basic Information.
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")
    discord_api_url: str | None = Field(None, validation_alias="DISCORD_API_URL")

    # Operating: logs, catch-up after downtime, how long SIGTERM waits for in-flight work.
    log_format: LogFormat = Field("text", validation_alias="RE_BOT_LOG_FORMAT")
    log_level: str | None = Field(None, validation_alias="RE_BOT_LOG_LEVEL")  # None: INFO for `run`, else WARNING
    catchup_hours: float = Field(3.0, ge=0, le=24 * 7, validation_alias="RE_BOT_CATCHUP_HOURS")
    # Below `docker stop`'s 10 s before SIGKILL; raise both together (compose: stop_grace_period).
    shutdown_timeout: float = Field(8.0, gt=0, le=3600, validation_alias="RE_BOT_SHUTDOWN_TIMEOUT")

    # Scheduling and delivery (see README "Reminders and subscriptions"); catch-up hours are above.
    delivery_lease_seconds: float = Field(120.0, gt=0, le=3600, validation_alias="RE_BOT_DELIVERY_LEASE_SECONDS")
    auto_migrate: bool = Field(True, validation_alias="RE_BOT_AUTO_MIGRATE")  # apply migrations at start
    # Per-platform send budgets, messages per second (README "Sending pace"). Slack: ~1/s per channel plus an
    # unpublished workspace limit, so the budget adapts to the 429s and RE_BOT_RATE_SLACK is only a cap (unset: none).
    # Discord: 50 requests/s per bot is the documented global limit and the default; set lower to cap.
    rate_slack: float | None = Field(None, gt=0, validation_alias="RE_BOT_RATE_SLACK")
    rate_slack_per_target: float = Field(1.0, gt=0, validation_alias="RE_BOT_RATE_SLACK_PER_TARGET")
    rate_discord: float = Field(50.0, gt=0, le=50, validation_alias="RE_BOT_RATE_DISCORD")
    rate_discord_per_target: float = Field(1.0, gt=0, validation_alias="RE_BOT_RATE_DISCORD_PER_TARGET")
    rate_console: float = Field(1000.0, gt=0, validation_alias="RE_BOT_RATE_CONSOLE")

    # Start-up and the container. The health check (`python -m bot.ops.healthcheck`) reads its timeout itself, with
    # the standard library only; the field is here so `config check` validates it and shows it.
    healthcheck_timeout: float = Field(4.0, gt=0, le=60, validation_alias="RE_BOT_HEALTHCHECK_TIMEOUT")
    # The content and its matcher, cached between starts (content/cache.py); "off" turns the cache off.
    cache_dir: str | None = Field(None, validation_alias="RE_BOT_CACHE_DIR")
    # `re-bot run` refuses to fall back to the console platform (the image sets it: a container has no terminal).
    require_platform: bool = Field(False, validation_alias="RE_BOT_REQUIRE_PLATFORM")

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: SecretStr | None) -> SecretStr | None:
        return _expect_prefix(v, "xoxb-", "the Bot User OAuth Token from OAuth & Permissions")

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, v: SecretStr | None) -> SecretStr | None:
        return _expect_prefix(v, "xapp-", "an app-level token with connections:write, from Basic Information")

    @field_validator("slack_signing_secret")
    @classmethod
    def _signing_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is not None and v.get_secret_value().startswith(tuple(SLACK_PREFIXES)):
            raise ValueError("is a token, not the signing secret (Basic Information > App Credentials)")
        return v

    @field_validator("slack_client_id")
    @classmethod
    def _client_id(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\d+\.\d+", v.strip()):
            raise ValueError("must look like 1234567890.1234567890 (Basic Information > App Credentials > Client ID)")
        return v.strip() if v is not None else None

    @field_validator("slack_client_secret")
    @classmethod
    def _client_secret(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return None
        raw = v.get_secret_value()
        if raw.startswith(tuple(SLACK_PREFIXES)):
            raise ValueError("is a token, not the client secret (Basic Information > App Credentials)")
        if any(c.isspace() for c in raw):
            raise ValueError("has spaces or a line break in it; paste the secret alone")
        return v

    @field_validator("discord_token")
    @classmethod
    def _discord_token(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return None
        raw = v.get_secret_value()
        if raw.lower().startswith(("bot ", "bearer ")):
            raise ValueError("must be the token alone, without 'Bot ' in front")
        if any(c.isspace() for c in raw):
            raise ValueError("has spaces or a line break in it; paste the token alone")
        if raw.startswith(tuple(SLACK_PREFIXES)):
            raise ValueError("is a Slack token, not a Discord bot token")
        return v

    @field_validator("http_port")
    @classmethod
    def _port(cls, v: int) -> int:
        if not 0 <= v <= 65535:
            raise ValueError("must be a port number from 1 to 65535 (or 0 for any free port)")
        return v

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, v: str) -> str:
        problem = database_url_problem(v)
        if problem:
            raise ValueError(problem)
        return v

    @field_validator("slack_api_url", "discord_api_url")
    @classmethod
    def _api_url(cls, v: str | None) -> str | None:
        if v is None:
            return None
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        return v

    @field_validator("content_dir", "content_extra")
    @classmethod
    def _content_dir(cls, v: str | None) -> str | None:
        if v is not None and not Path(v).is_dir():
            raise ValueError("is not a directory")
        return v

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str | None) -> str | None:
        if v is None:
            return None
        if v.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return v.upper()

    @field_validator("log_format", mode="before")
    @classmethod
    def _log_format(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    @model_validator(mode="wrap")
    @classmethod
    def _check_companions(cls, data: Any, handler: Any) -> Settings:
        """Add the problems that need several variables to the per-field ones, so one run names them all."""
        extra = _companion_errors(data) if isinstance(data, Mapping) else []
        try:
            settings = handler(data)
        except ValidationError as exc:
            if not extra:
                raise
            errors = [_as_init_error(e) for e in exc.errors(include_url=False)]
            raise ValidationError.from_exception_data(exc.title, [*errors, *extra], hide_input=True) from None
        if extra:
            raise ValidationError.from_exception_data(cls.__name__, extra, hide_input=True)
        return settings

    @property
    def slack_oauth(self) -> bool:
        """Many workspaces: each installs the app through /slack/install and gets its own token."""
        return self.slack_client_id is not None and self.slack_client_secret is not None

    @property
    def slack_enabled(self) -> bool:
        return (self.slack_bot_token is not None or self.slack_oauth) and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )

    @property
    def slack_socket_mode(self) -> bool:
        return self.slack_enabled and self.slack_app_token is not None

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None

    def effective_log_level(self, command: str) -> int:
        """RE_BOT_LOG_LEVEL when set; otherwise INFO for `run` (an operator watches it), WARNING for a terminal."""
        if self.log_level:
            return logging.getLevelNamesMapping()[self.log_level]
        return logging.INFO if command == "run" else logging.WARNING

    def secret_values(self) -> list[str]:
        """Every configured secret, for the log redactor: tokens, the signing secret, the database password."""
        secrets = [
            s.get_secret_value()
            for s in (
                self.slack_bot_token,
                self.slack_signing_secret,
                self.slack_app_token,
                self.slack_client_secret,
                self.discord_token,
            )
            if s is not None
        ]
        password = _url_password(self.database_url)
        if password:
            secrets.append(password)
        return [s for s in secrets if len(s) >= 4]  # a 1-3 character "secret" would redact ordinary words

    def describe(self) -> list[tuple[str, str]]:
        """(variable, value) for every setting the code reads, in the order declared; secrets only as set / not set.

        Built from the fields themselves, so a new setting shows up in `re-bot config check` without a second list
        (tests/test_config_docs.py checks the README's table against the same fields)."""
        return [(variable, self._shown(variable, getattr(self, name))) for name, variable in self.variables().items()]

    @classmethod
    def variables(cls) -> dict[str, str]:
        """{field name: environment variable} of every setting."""
        return {name: str(field.validation_alias) for name, field in cls.model_fields.items()}

    def _shown(self, variable: str, value: object) -> str:
        if isinstance(value, SecretStr):
            return f"set ({len(value.get_secret_value())} characters, hidden)"
        if value is None:
            means = _UNSET_MEANS.get(variable)
            return f"not set ({means})" if means else "not set"
        if isinstance(value, bool):
            return str(value).lower()
        if isinstance(value, float):
            return f"{value:g}"
        if variable == "RE_BOT_DATABASE_URL":
            return redact_url(str(value))
        if variable == "RE_BOT_QUERY_RETENTION_DAYS" and value == 0:
            return "0 (no text kept)"
        return str(value)

    def content_cache_dir(self) -> Path | None:
        """Where the content cache lives (None: RE_BOT_CACHE_DIR=off)."""
        from content.cache_dir import default_cache_dir

        if self.cache_dir is None:
            return default_cache_dir()
        return None if self.cache_dir.strip().lower() == "off" else Path(self.cache_dir)

    def warnings(self) -> list[str]:
        """Settings that work but are probably not what the operator meant."""
        out = []
        if self.slack_app_token is not None and self.slack_signing_secret is not None and self.slack_enabled:
            out.append("SLACK_APP_TOKEN and SLACK_SIGNING_SECRET are both set: Socket Mode is used, HTTP is not")
        if self.slack_oauth and self.slack_bot_token is not None:
            out.append("SLACK_BOT_TOKEN is ignored: with SLACK_CLIENT_ID and SLACK_CLIENT_SECRET each workspace's "
                       "own token (from its install at /slack/install) is used")  # fmt: skip
        if self.discord_token is not None and self.discord_token.get_secret_value().count(".") != 2:
            out.append("DISCORD_TOKEN does not look like a bot token (three parts separated by dots); "
                       "copy it from the Developer Portal's Bot page")  # fmt: skip
        if self.database_url == "sqlite://" or (
            self.database_url.startswith("sqlite") and ":memory:" in self.database_url
        ):
            out.append("RE_BOT_DATABASE_URL is an in-memory SQLite database: reminders are lost at every restart")
        return out

    def platforms_summary(self) -> str:
        on = []
        if self.slack_enabled:
            on.append("slack (Socket Mode)" if self.slack_socket_mode else "slack (HTTP, POST /slack/events)")
            if self.slack_oauth:
                on[-1] = on[-1][:-1] + "; OAuth installs in many workspaces at GET /slack/install)"
        if self.discord_enabled:
            on.append("discord")
        return ", ".join(on) if on else "none: `re-bot run` runs the console platform"


SECRET_VARIABLES = (
    "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "SLACK_CLIENT_SECRET", "DISCORD_TOKEN",
)  # fmt: skip


def secrets_in_environment(environ: Mapping[str, str]) -> list[str]:
    """The secret values set in `environ` (before, or without, a valid `Settings`), for the log redactor."""
    values = [environ[name].strip() for name in SECRET_VARIABLES if environ.get(name, "").strip()]
    password = _url_password(environ.get("RE_BOT_DATABASE_URL", ""))
    return [v for v in [*values, password or ""] if len(v) >= 4]


def _url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def database_url_problem(url: str) -> str | None:
    """Why a database URL will not work, or None. Shapes only; whether the server answers is /readyz's job."""
    match = re.match(r"^([A-Za-z][A-Za-z0-9]*)(\+[A-Za-z0-9_]+)?://", url)
    if not match:
        return "must look like sqlite:///path/to/re-bot.db or postgresql+psycopg://user:password@host:5432/db"
    scheme = match.group(1).lower()
    if scheme == "postgres":
        return "use postgresql+psycopg://... (the scheme 'postgres://' is not understood by SQLAlchemy)"
    if scheme not in DATABASE_SCHEMES:
        return f"the database must be sqlite or postgresql, not {scheme}"
    if scheme == "postgresql":
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return "has a port that is not a number from 1 to 65535"
        if not parts.hostname:
            return "needs a host: postgresql+psycopg://user:password@host:5432/db"
        if port is not None and not 1 <= port <= 65535:
            return "has a port that is not a number from 1 to 65535"
        if not parts.path.strip("/"):
            return "needs a database name at the end: ...@host:5432/re_bot"
    return None


def _companion_errors(data: Mapping[str, Any]) -> list[InitErrorDetails]:
    def is_set(name: str) -> bool:
        return data.get(name) not in (None, "")

    errors: list[InitErrorDetails] = []

    def add(loc: str, message: str) -> None:
        errors.append(InitErrorDetails(type=PydanticCustomError("missing_companion", message), loc=(loc,), input=None))

    bot, secret, app = is_set("SLACK_BOT_TOKEN"), is_set("SLACK_SIGNING_SECRET"), is_set("SLACK_APP_TOKEN")
    client_id, client_secret = is_set("SLACK_CLIENT_ID"), is_set("SLACK_CLIENT_SECRET")
    oauth = client_id and client_secret
    if client_id and not client_secret:
        add("SLACK_CLIENT_SECRET", "missing: SLACK_CLIENT_ID is set, so set the Client Secret from Basic Information")
    if client_secret and not client_id:
        add("SLACK_CLIENT_ID", "missing: SLACK_CLIENT_SECRET is set, so set the Client ID from Basic Information")
    if (bot or oauth) and not (secret or app):
        which = "SLACK_BOT_TOKEN is set" if bot else "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET are set"
        add(
            "SLACK_SIGNING_SECRET",
            f"missing: {which}, so set SLACK_SIGNING_SECRET (Slack over HTTP) or SLACK_APP_TOKEN (Socket Mode)",
        )
    if (secret or app) and not (bot or client_id or client_secret):
        which = "SLACK_APP_TOKEN" if app else "SLACK_SIGNING_SECRET"
        add(
            "SLACK_BOT_TOKEN",
            f"missing: {which} is set, but Slack also needs the bot token (xoxb-...), or SLACK_CLIENT_ID and "
            "SLACK_CLIENT_SECRET for installs in many workspaces",
        )
    return errors


def _as_init_error(error: Any) -> InitErrorDetails:
    # Re-raise pydantic's own errors under their original type; custom (value_error) ones keep their message.
    if error["type"] == "value_error":
        return InitErrorDetails(
            type=PydanticCustomError("value_error", str(error["ctx"]["error"])), loc=error["loc"], input=None
        )
    return InitErrorDetails(type=error["type"], loc=error["loc"], input=None, ctx=error.get("ctx", {}))


def config_problems(exc: ValidationError) -> list[str]:
    """One line per problem, `VARIABLE: what is wrong`, never the value."""
    lines = []
    for e in exc.errors(include_url=False, include_input=False):
        loc = ".".join(map(str, e["loc"])) or "configuration"
        msg = e["msg"].removeprefix("Value error, ")
        lines.append(f"{loc}: {msg}")
    return lines


PLATFORM_VARIABLES = (
    "Slack: set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (OAuth installs in many "
    "workspaces), with SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode). "
    "Discord: set DISCORD_TOKEN."
)
