"""`/re-progress`: a member's streak and the papers and prompts they finished."""

from __future__ import annotations

from handlers.cards import review_stats
from handlers.papers import local_day
from handlers.registry import command
from handlers.reminders import known_zone, no_store, store_of
from handlers.services import Services
from handlers.study import item_title, summarize
from handlers.types import Invocation, Reply, Section

COMMAND = "re-progress"
RECENT = 5


@command(COMMAND, summary="Your study streak, and the papers and prompts you finished.", usage="/re-progress")
def progress(inv: Invocation, services: Services) -> Reply:
    store = store_of(services)
    if store is None:
        return no_store(COMMAND)
    assert inv.now is not None
    done = store.done_items(inv.platform, inv.user)
    today = local_day(inv.now, known_zone(inv, store))
    s = summarize(((d.item, d.day) for d in done), today)
    if not done:
        text = "Nothing recorded yet. Set a reminder with `/re-remind daily 09:00`; press **Done** on it when finished."
        return Reply(command=COMMAND, title="Your progress", sections=(Section(text=text),))
    recent = []
    for d in sorted(done, key=lambda d: d.day, reverse=True)[:RECENT]:
        recent.append(f"{d.day.isoformat()}: {item_title(services.content, d.item)}")
    stats = review_stats(store.cards(inv.platform, inv.user), inv.now)
    retention = f"{stats.retention:.0%}" if stats.retention is not None else "none yet"
    return Reply(
        command=COMMAND,
        title="Your progress",
        sections=(
            Section(
                text=f"**Streak:** {s.streak} day(s) · **papers:** {s.papers} · **prompts:** {s.prompts} · "
                f"**study days:** {s.days}"
            ),
            Section(
                text=f"**Cards learned:** {stats.learned} of {stats.cards} · **estimated retention:** {retention} "
                "(`/re-review list`)"
            ),
            Section(text="**Recently finished**", items=tuple(recent)),
        ),
    )
