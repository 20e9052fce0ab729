"""Redaction of what members type before it is stored: mentions, emails, URLs and phone numbers become placeholders.

The questions log keeps the words of a question (so organisers see what members ask) but not who or whom it names,
nor an address, link or number that could identify someone. Placeholders keep the sentence readable
("ask [member] at [email]") and are themselves left alone by a second pass, so redacting is idempotent.
"""

from __future__ import annotations

import re

MENTION, EMAIL, URL, PHONE = "[member]", "[email]", "[link]", "[phone]"

# Order matters: platform mentions and Slack's <url|label> links first (they contain '@' and '://'), then URLs
# (before emails: a URL may hold user@host), then emails, then handles and numbers.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack: <@U123>, <@U123|name>, <!here>, <!subteam^S1|@team>, <#C123|general>; Discord: <@123>, <@!123>,
    # <@&role>, <#channel>. Channels are not people, but a private channel's name can be, so they go too.
    (re.compile(r"<[@#!][^<>\s]*(?:\|[^<>]*)?>"), MENTION),
    (re.compile(r"<(?:https?|mailto|tel|ftp):[^<>]*>", re.IGNORECASE), URL),
    (re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+", re.IGNORECASE), URL),
    (re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE), EMAIL),
    # A bare domain with a path ("github.com/someone", "linkedin.com/in/name"): the path is what identifies.
    (re.compile(r"\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*", re.IGNORECASE), URL),
    (re.compile(r"(?<![\w\[])@[\w.-]+"), MENTION),  # plain @handles as typed on Discord or elsewhere
    # Seven or more digits, possibly with +, spaces, dots, dashes and parentheses between them: a phone number.
    # Years, prices and "3 years" stay (fewer digits).
    (re.compile(r"\+?\(?\d(?:[\s().-]{0,3}\d){6,}\)?"), PHONE),
)


def redact(text: str) -> str:
    """`text` with mentions, emails, URLs and phone numbers replaced by placeholders. Idempotent."""
    for pattern, placeholder in _PATTERNS:
        text = pattern.sub(placeholder, text)
    return text
