"""Configuration from the environment (and a `.env` file), validated once at start-up."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every variable of the contract. Secrets are `SecretStr`, so they print as '**********'."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_url: str = Field("sqlite:///re-bot.db", validation_alias="RE_BOT_DATABASE_URL")
    content_dir: str | None = Field(None, validation_alias="RE_BOT_CONTENT_DIR")
    http_port: int = Field(3000, ge=1, le=65535, validation_alias="RE_BOT_HTTP_PORT")

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")
    discord_api_url: str | None = Field(None, validation_alias="DISCORD_API_URL")

    # Scheduling and delivery (see README "Reminders and subscriptions").
    catchup_hours: float = Field(3.0, ge=0, le=48, validation_alias="RE_BOT_CATCHUP_HOURS")
    delivery_lease_seconds: float = Field(120.0, gt=0, le=3600, validation_alias="RE_BOT_DELIVERY_LEASE_SECONDS")
    auto_migrate: bool = Field(True, validation_alias="RE_BOT_AUTO_MIGRATE")  # apply migrations at start
    # Per-platform send budgets, messages per second (Slack: ~1/s per channel plus a workspace limit; Discord: 50
    # requests/s per bot, and DMs paced because opening many DMs quickly gets a bot limited).
    rate_slack: float = Field(5.0, gt=0, validation_alias="RE_BOT_RATE_SLACK")
    rate_slack_per_target: float = Field(1.0, gt=0, validation_alias="RE_BOT_RATE_SLACK_PER_TARGET")
    rate_discord: float = Field(5.0, gt=0, validation_alias="RE_BOT_RATE_DISCORD")
    rate_discord_per_target: float = Field(1.0, gt=0, validation_alias="RE_BOT_RATE_DISCORD_PER_TARGET")
    rate_console: float = Field(1000.0, gt=0, validation_alias="RE_BOT_RATE_CONSOLE")

    @property
    def slack_enabled(self) -> bool:
        return self.slack_bot_token is not None and (
            self.slack_app_token is not None or self.slack_signing_secret is not None
        )

    @property
    def discord_enabled(self) -> bool:
        return self.discord_token is not None


PLATFORM_VARIABLES = (
    "Slack: set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode). "
    "Discord: set DISCORD_TOKEN."
)
