from bot.markup import render
from handlers.safe_text import quote

MD = "Read **this** and *that*, see [Adam](https://arxiv.org/abs/1412.6980) & `x<y`.\n\n- one\n- two"


def test_plain() -> None:
    assert render(MD, "plain") == (
        "Read this and that, see Adam (https://arxiv.org/abs/1412.6980) & x<y.\n\n• one\n• two"
    )


def test_slack_mrkdwn() -> None:
    assert render(MD, "slack") == (
        "Read *this* and _that_, see <https://arxiv.org/abs/1412.6980|Adam> &amp; `x&lt;y`.\n\n• one\n• two"
    )


def test_discord_markdown() -> None:
    assert render(MD, "discord") == (
        "Read **this** and *that*, see [Adam](https://arxiv.org/abs/1412.6980) & `x<y`.\n\n• one\n• two"
    )


def test_ordered_lists_keep_numbers() -> None:
    assert render("1. a\n2. b", "plain") == "1. a\n2. b"


def test_quote_neutralises_mentions_and_markup() -> None:
    q = quote("@here <@U1> **x** " + "y" * 200, limit=40)
    assert "@here" not in q and "<@" not in q and "**" not in q and q.endswith("…")


def test_shorten_cuts_at_a_word_boundary() -> None:
    from handlers.safe_text import shorten

    assert shorten("short", 10) == "short"
    assert shorten("ML researcher or data scientist vs ML engineer: what's the difference", 40) == (
        "ML researcher or data scientist vs ML…"
    )
