"""`/re-admin`: tools for the people who run a community's workspace or server. `report` is the FAQ report.

Only Slack workspace admins and owners, and Discord members who may manage the server (the console's operator too)
may use it; anyone else gets a polite refusal. The report covers the workspace it is asked in, never another one.
"""

from __future__ import annotations

import re
from datetime import timedelta

from handlers.faq import query_log
from handlers.registry import command, error_reply
from handlers.report import SHOWN, build_report, summary_markdown
from handlers.safe_text import quote
from handlers.services import Services
from handlers.types import Invocation, Reply, Section

COMMAND = "re-admin"
USAGE = "/re-admin report [PERIOD, e.g. 7d, 30d, 12w]"
PERIOD = re.compile(r"^(\d{1,4})([hdw])$")
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
TOPICS_SHOWN = 15


def parse_period(text: str) -> timedelta | None:
    m = PERIOD.match(text.strip().lower())
    return int(m[1]) * UNITS[m[2]] if m and int(m[1]) > 0 else None


@command(
    COMMAND,
    summary="For workspace admins and server managers: what members asked the FAQ, what helped, what found nothing.",
    usage=USAGE,
    examples=("/re-admin report", "/re-admin report 7d"),
)
def admin(inv: Invocation, services: Services) -> Reply:
    words = inv.text.split() or ["report"]  # the one tool so far
    if words[0].lower() != "report" or len(words) > 2:
        return error_reply(COMMAND, f"Usage: `{USAGE}`.", "`/re-admin report` shows the last 30 days.")
    if not inv.workspace_admin:
        return error_reply(
            COMMAND,
            "Sorry, `/re-admin` is for the people who run this workspace or server (Slack admins and owners, "
            "Discord members who can manage the server).",
            "Members can help the FAQ with the Helpful / Not what I asked buttons under each answer.",
        )
    if inv.workspace is None and inv.platform != "console":
        return error_reply(COMMAND, "Ask for the report inside the workspace or server it is about, not in a DM.")
    period = parse_period(words[1]) if len(words) == 2 else timedelta(days=30)
    if period is None:
        return error_reply(COMMAND, f"“{quote(words[1])}” is not a period.", "Try `7d`, `30d` or `12w`.")
    questions = query_log(services)
    if questions is None:
        return error_reply(COMMAND, "There is no questions log here: the bot runs without a database.")
    assert inv.now is not None
    since = inv.now - period
    report = build_report(questions.logged_questions(since=since, workspace=inv.workspace), since=since,
                          workspace=inv.workspace)  # fmt: skip
    headline, topics, asked = summary_markdown(report, limit=SHOWN)
    sections = [Section(text=headline)]
    if topics:
        more = len(topics) - TOPICS_SHOWN
        items = (*topics[:TOPICS_SHOWN], *((f"… and {more} more topics",) if more > 0 else ()))
        sections.append(Section(text="**Topics** (asked, helpful, not helpful)", items=items))
    if asked:
        sections.append(Section(text="**Unanswered or “not what I asked”**, most frequent first", items=tuple(asked)))
    return Reply(
        command=COMMAND,
        title=f"FAQ report: the last {period.days or round(period.total_seconds() / 3600)} "
        + ("days" if period.days else "hours"),
        sections=tuple(sections),
        context=("Only you can see this. `re-bot report --suggest` turns it into ready-to-paste YAML.",),
    )
