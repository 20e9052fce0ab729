"""What the questions log stores is redacted: no mention, email, URL or phone number survives, whatever surrounds it."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from handlers.redact import EMAIL, MENTION, PHONE, URL, redact

# Words a member might type around the personal bits (letters, punctuation, digits in short runs).
filler = st.text(
    alphabet=st.characters(categories=("L", "Zs", "Po"), exclude_characters="@<>"), min_size=0, max_size=40
)
local = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True)
domain = st.from_regex(r"[a-z0-9]{1,12}(\.[a-z0-9]{1,8}){0,2}\.(com|org|io|de|co\.uk)", fullmatch=True)
emails = st.builds(lambda a, d: f"{a}@{d}", local, domain)
slack_ids = st.from_regex(r"[UWC][A-Z0-9]{8,10}", fullmatch=True)
discord_ids = st.from_regex(r"[1-9][0-9]{16,19}", fullmatch=True)
mentions = st.one_of(
    st.builds(lambda u: f"<@{u}>", slack_ids),
    st.builds(lambda u, n: f"<@{u}|{n}>", slack_ids, st.from_regex(r"[a-z.]{1,12}", fullmatch=True)),
    st.builds(lambda u: f"<@{u}>", discord_ids),
    st.builds(lambda u: f"<@!{u}>", discord_ids),
    st.builds(lambda u: f"<@&{u}>", discord_ids),
    st.builds(lambda u: f"<#{u}>", discord_ids),
    st.just("<!here>"),
    st.builds(lambda n: f"@{n}", st.from_regex(r"[a-z][a-z0-9_.]{1,15}", fullmatch=True)),
)
paths = st.from_regex(r"(/[A-Za-z0-9_%-]{1,10}){0,3}(\?[a-z]=[0-9a-z]{1,6})?", fullmatch=True)
urls = st.one_of(
    st.builds(lambda d, p: f"https://{d}{p}", domain, paths),
    st.builds(lambda d, p: f"http://www.{d}{p}", domain, paths),
    st.builds(lambda d, p: f"www.{d}{p}", domain, paths),
    st.builds(lambda d, p: f"<https://{d}{p}|link>", domain, paths),
    st.builds(lambda d: f"{d}/in/someone", domain),
)
digits = st.from_regex(r"[0-9]{3}", fullmatch=True)
phones = st.one_of(
    st.builds(lambda a, b, c: f"+49 {a} {b}{c}", digits, digits, digits),
    st.builds(lambda a, b, c: f"({a}) {b}-{c}0", digits, digits, digits),
    st.builds(lambda a, b, c: f"{a}.{b}.{c}9", digits, digits, digits),
    st.from_regex(r"\+?[0-9]{7,13}", fullmatch=True),
)
personal = st.one_of(emails, mentions, urls, phones)


@given(st.lists(st.tuples(filler, personal), min_size=1, max_size=4), filler)
def test_nothing_personal_survives(parts: list[tuple[str, str]], tail: str) -> None:
    text = "".join(f"{before} {secret} " for before, secret in parts) + tail
    out = redact(text)
    for _, secret in parts:
        assert secret not in out
    assert not re.search(r"[\w.+-]+@[\w-]+\.\w", out), out  # no email shape
    assert "://" not in out and "www." not in out
    assert not re.search(r"\d(?:\D{0,3}\d){6,}", out), out  # no run of 7+ digits
    assert not re.search(r"<[@#!]", out)


@given(st.text(max_size=200))
def test_idempotent_and_never_raises(text: str) -> None:
    once = redact(text)
    assert redact(once) == once


# No word has a digit: "150000 10x" is eight digits with a space between, which the rule reads as a phone
# number (as it must for "020 7946 0958").
WORDS = "how do I become a research engineer after years of SWE in ? C++ PyTorch $150k tenfold".split()


@given(st.lists(st.sampled_from(WORDS), max_size=20), st.integers(0, 20), st.sampled_from(["3", "2024", "150000"]))
def test_ordinary_questions_are_kept(words: list[str], at: int, number: str) -> None:
    """Words, prices, a year or a count stay; only a run of seven or more digits reads as a phone number."""
    text = " ".join([*words[:at], number, *words[at:]])
    assert redact(text) == text


def test_placeholders_read_naturally() -> None:
    out = redact("ask <@U12345678|bob> or mail bob@example.org, see https://x.io/a or call +44 20 7946 0958")
    assert out == f"ask {MENTION} or mail {EMAIL}, see {URL} or call {PHONE}"
