"""`Settings` and `re-bot config check`: every problem named at once, secrets never shown."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.cli import main
from bot.config import Settings, config_problems, database_url_problem, redact_url

VARIABLES = [
    "RE_BOT_DATABASE_URL", "RE_BOT_CONTENT_DIR", "RE_BOT_HTTP_HOST", "RE_BOT_HTTP_PORT", "RE_BOT_LOG_FORMAT",
    "RE_BOT_LOG_LEVEL", "RE_BOT_CATCHUP_HOURS", "RE_BOT_SHUTDOWN_TIMEOUT", "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN", "SLACK_API_URL", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "DISCORD_TOKEN", "DISCORD_API_URL",
]  # fmt: skip

BOT_TOKEN = "xoxb-1111111111-2222222222-SeCrEtBoTtOkEnVaLuE"
APP_TOKEN = "xapp-1-A0000000000-3333333333-aPpToKeNsEcReTvAlUe"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
DISCORD_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
DB_PASSWORD = "pg-PaSsWoRd-42"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No variable from the developer's shell or a stray .env leaks into these tests."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)


def problems(**env: str) -> list[str]:
    try:
        Settings(**env)
    except ValidationError as exc:
        return config_problems(exc)
    return []


def test_defaults_are_valid():
    s = Settings()
    assert s.database_url == "sqlite:///re-bot.db"
    assert s.http_port == 3000
    assert s.log_format == "text"
    assert s.catchup_hours == 3
    assert not s.slack_enabled and not s.discord_enabled


def test_every_problem_is_named_in_one_pass():
    found = problems(
        SLACK_BOT_TOKEN="xoxp-123-user-token",
        RE_BOT_HTTP_PORT="70000",
        RE_BOT_DATABASE_URL="postgres://u:p@h/db",
        RE_BOT_LOG_FORMAT="xml",
        RE_BOT_LOG_LEVEL="loud",
        RE_BOT_CATCHUP_HOURS="-1",
        DISCORD_API_URL="not a url",
    )
    named = {line.split(":", 1)[0] for line in found}
    assert named == {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",  # the bot token alone turns nothing on: say what is missing
        "RE_BOT_HTTP_PORT",
        "RE_BOT_DATABASE_URL",
        "RE_BOT_LOG_FORMAT",
        "RE_BOT_LOG_LEVEL",
        "RE_BOT_CATCHUP_HOURS",
        "DISCORD_API_URL",
    }
    assert any("must start with xoxb-" in line and "user token" in line for line in found)


@pytest.mark.parametrize(
    ("env", "variable", "words"),
    [
        ({"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN"),
        ({"SLACK_SIGNING_SECRET": SIGNING_SECRET}, "SLACK_BOT_TOKEN", "missing"),
        ({"SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN", "missing"),
        ({"SLACK_BOT_TOKEN": APP_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}, "SLACK_BOT_TOKEN", "app-level token"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN", "must start with xapp-"),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": BOT_TOKEN}, "SLACK_SIGNING_SECRET", "is a token"),
        ({"SLACK_BOT_TOKEN": f" {BOT_TOKEN}\n", "SLACK_SIGNING_SECRET": "s3cr3t"}, "SLACK_BOT_TOKEN", "spaces"),
        ({"DISCORD_TOKEN": f"Bot {DISCORD_TOKEN}"}, "DISCORD_TOKEN", "without 'Bot '"),
        ({"DISCORD_TOKEN": BOT_TOKEN}, "DISCORD_TOKEN", "Slack token"),
        ({"RE_BOT_HTTP_PORT": "0x50"}, "RE_BOT_HTTP_PORT", "integer"),
        ({"RE_BOT_HTTP_PORT": "65536"}, "RE_BOT_HTTP_PORT", "1 to 65535"),
        ({"RE_BOT_DATABASE_URL": "mysql://u:p@h/db"}, "RE_BOT_DATABASE_URL", "sqlite or postgresql"),
        ({"RE_BOT_DATABASE_URL": "re-bot.db"}, "RE_BOT_DATABASE_URL", "must look like"),
        ({"RE_BOT_DATABASE_URL": "postgresql+psycopg://u:p@/db"}, "RE_BOT_DATABASE_URL", "needs a host"),
        ({"RE_BOT_DATABASE_URL": "postgresql+psycopg://u:p@h:99999/db"}, "RE_BOT_DATABASE_URL", "port"),
        ({"RE_BOT_DATABASE_URL": "postgresql+psycopg://u:p@h:5432"}, "RE_BOT_DATABASE_URL", "database name"),
        ({"RE_BOT_CONTENT_DIR": "/nonexistent/re-bot-content"}, "RE_BOT_CONTENT_DIR", "not a directory"),
        ({"SLACK_API_URL": "ftp://x"}, "SLACK_API_URL", "http"),
        ({"RE_BOT_SHUTDOWN_TIMEOUT": "0"}, "RE_BOT_SHUTDOWN_TIMEOUT", "greater than 0"),
    ],
)
def test_each_mistake_is_named(env, variable, words):
    found = [line for line in problems(**env) if line.startswith(variable + ":")]
    assert found, problems(**env)
    assert any(words in line for line in found), found


@pytest.mark.parametrize(
    ("env", "slack", "socket", "discord"),
    [
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}, True, False, False),
        ({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}, True, True, False),
        ({"DISCORD_TOKEN": DISCORD_TOKEN}, False, False, True),
        (
            {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "DISCORD_TOKEN": DISCORD_TOKEN},
            True,
            True,
            True,
        ),
    ],
)
def test_valid_platform_combinations(env, slack, socket, discord):
    s = Settings(**env)
    assert (s.slack_enabled, s.slack_socket_mode, s.discord_enabled) == (slack, socket, discord)


def test_empty_variables_mean_unset(monkeypatch):
    # A compose file or .env often carries `SLACK_APP_TOKEN=`: that is "not set", not an invalid token.
    monkeypatch.setenv("SLACK_APP_TOKEN", "")
    monkeypatch.setenv("DISCORD_TOKEN", "")
    s = Settings()
    assert s.slack_app_token is None and s.discord_token is None


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={DISCORD_TOKEN}\nRE_BOT_LOG_FORMAT=JSON\n")
    s = Settings()
    assert s.discord_enabled
    assert s.log_format == "json"


def test_accepted_database_urls():
    for url in (
        "sqlite:///re-bot.db",
        "sqlite:////data/re-bot.db",
        "sqlite://",
        "postgresql+psycopg://re_bot:pw@postgres:5432/re_bot",
        "postgresql://localhost/test",
    ):
        assert database_url_problem(url) is None, url


def test_database_password_is_redacted_in_urls():
    assert redact_url(f"postgresql+psycopg://re_bot:{DB_PASSWORD}@db:5432/re_bot") == (
        "postgresql+psycopg://re_bot:***@db:5432/re_bot"
    )
    assert redact_url("sqlite:///re-bot.db") == "sqlite:///re-bot.db"


def test_secret_values_lists_every_configured_secret():
    s = Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_APP_TOKEN=APP_TOKEN,
        DISCORD_TOKEN=DISCORD_TOKEN,
        RE_BOT_DATABASE_URL=f"postgresql+psycopg://re_bot:{DB_PASSWORD}@db/re_bot",
    )
    assert set(s.secret_values()) == {BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, DISCORD_TOKEN, DB_PASSWORD}


@given(
    prefix=st.sampled_from(["", "xoxb-", "xapp-", "xoxp-", "Bot ", " ", "MTIz."]),
    tail=st.text(max_size=40),
)
def test_no_token_value_ever_appears_in_a_problem(prefix, tail):
    value = prefix + "Q7sEcReTvAl" + tail
    env = {"SLACK_BOT_TOKEN": value, "SLACK_APP_TOKEN": value, "DISCORD_TOKEN": value, "SLACK_SIGNING_SECRET": value}
    try:
        Settings(**env)
    except ValidationError as exc:
        text = "\n".join(config_problems(exc)) + str(exc) + repr(exc)
        assert "Q7sEcReTvAl" not in text


def test_validation_error_text_hides_inputs():
    with pytest.raises(ValidationError) as info:
        Settings(SLACK_BOT_TOKEN="xoxp-" + "S3cretUserTokenValue", SLACK_SIGNING_SECRET=SIGNING_SECRET)
    assert "S3cretUserTokenValue" not in str(info.value)


def test_config_check_prints_effective_configuration_with_secrets_hidden(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("DISCORD_TOKEN", DISCORD_TOKEN)
    monkeypatch.setenv("RE_BOT_DATABASE_URL", f"postgresql+psycopg://re_bot:{DB_PASSWORD}@db:5432/re_bot")
    assert main(["config", "check"]) == 1  # config check tries the database, and host "db" does not resolve here
    out, err = capsys.readouterr()
    assert "database: unusable" in out
    for secret in (BOT_TOKEN, SIGNING_SECRET, DISCORD_TOKEN, DB_PASSWORD):
        assert secret not in out + err
    assert "postgresql+psycopg://re_bot:***@db:5432/re_bot" in out
    assert "SLACK_BOT_TOKEN" in out and "hidden" in out
    assert "platforms: slack (HTTP, POST /slack/events), discord" in out
    assert "content: ok" in out


def test_config_check_exits_1_naming_every_problem(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-" + "UserTokenPastedByMistake")
    monkeypatch.setenv("RE_BOT_HTTP_PORT", "99999")
    monkeypatch.setenv("RE_BOT_DATABASE_URL", "postgres://u:pw@h/db")
    assert main(["config", "check"]) == 1
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == [
        "RE_BOT_DATABASE_URL",
        "RE_BOT_HTTP_PORT",
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
    ]
    assert "4 configuration problem(s)" in err
    assert "UserTokenPastedByMistake" not in out + err


def test_config_check_names_invalid_content(monkeypatch, capsys, tmp_path):
    (tmp_path / "content").mkdir()
    monkeypatch.setenv("RE_BOT_CONTENT_DIR", str(tmp_path / "content"))
    assert main(["config", "check"]) == 1
    out, _ = capsys.readouterr()
    assert "RE_BOT_CONTENT_DIR: the content has" in out


def test_startup_with_bad_config_names_problems_not_values(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "not-a-token-" + "ZZSECRETZZ")
    assert main(["run"]) == 1
    _, err = capsys.readouterr()
    assert "SLACK_BOT_TOKEN: must start with xoxb-" in err
    assert "ZZSECRETZZ" not in err and APP_TOKEN not in err


def test_config_check_warns_about_likely_mistakes(monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", "just-one-part-token")
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SLACK_APP_TOKEN", APP_TOKEN)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    assert main(["config", "check"]) == 0
    _, err = capsys.readouterr()
    assert "warning: DISCORD_TOKEN does not look like a bot token" in err
    assert "Socket Mode is used" in err


CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "0123456789abcdef0123456789abcdef"


def test_oauth_installs_need_both_credentials_and_a_way_to_receive_events():
    assert Settings(SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET,
                    SLACK_SIGNING_SECRET=SIGNING_SECRET).slack_oauth  # fmt: skip
    s = Settings(SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET, SLACK_APP_TOKEN=APP_TOKEN)
    assert s.slack_enabled and s.slack_socket_mode and s.slack_oauth
    assert "OAuth installs" in s.platforms_summary()
    assert any(line.startswith("SLACK_CLIENT_SECRET: missing") for line in problems(SLACK_CLIENT_ID=CLIENT_ID))
    assert any(line.startswith("SLACK_CLIENT_ID: missing") for line in problems(SLACK_CLIENT_SECRET=CLIENT_SECRET))
    found = problems(SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET)
    assert any(line.startswith("SLACK_SIGNING_SECRET: missing") and "SLACK_CLIENT_ID" in line for line in found)
    assert any("Client ID" in line for line in problems(SLACK_CLIENT_ID="my-app", SLACK_CLIENT_SECRET=CLIENT_SECRET,
                                                         SLACK_SIGNING_SECRET=SIGNING_SECRET))  # fmt: skip
    assert any("is a token" in line for line in problems(SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=BOT_TOKEN,
                                                          SLACK_SIGNING_SECRET=SIGNING_SECRET))  # fmt: skip
    both = Settings(SLACK_CLIENT_ID=CLIENT_ID, SLACK_CLIENT_SECRET=CLIENT_SECRET, SLACK_BOT_TOKEN=BOT_TOKEN,
                    SLACK_SIGNING_SECRET=SIGNING_SECRET)  # fmt: skip
    assert any("SLACK_BOT_TOKEN is ignored" in w for w in both.warnings())


def test_config_check_shows_oauth_settings_with_the_secret_hidden(monkeypatch, capsys):
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    assert main(["config", "check"]) == 0
    out = capsys.readouterr().out
    assert CLIENT_ID in out and "SLACK_CLIENT_SECRET" in out and CLIENT_SECRET not in out
    assert CLIENT_SECRET in Settings().secret_values()
