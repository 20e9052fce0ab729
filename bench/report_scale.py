"""`re-bot report` on a big community's month: 100,000 logged /re-faq questions (a fifth of them unanswered, in 2,000
distinct wordings with typos and repeats, 30,000 votes), read from SQLite and summarised with near-identical
questions merged, the way `re-bot report --json` does it.

Prints one line: `report_scale: ...` with the time of the store read and of the summary, and the ratio of the total to
the limit it chases (an operator waits at most 5 s; ratio <= 1 passes). Seeding (through the same batched writer the
bot uses) is not measured. Run from the repository root: `.venv/bin/python bench/report_scale.py`.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from anywhere

from bot.config import Settings  # noqa: E402
from bot.schedule.ticker import open_store  # noqa: E402
from handlers.report import build_report  # noqa: E402
from handlers.store_api import AskedQuestion  # noqa: E402

QUESTIONS = 100_000
UNANSWERED_SHARE = 0.2
WORDINGS = 2_000
VOTES = 30_000
LIMIT = 5.0  # seconds
NOW = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
TOPICS = ["phd", "salary", "interviews", "switch", "learning", "papers", "portfolio", "role"]
WORDS = (
    "when where how is there does our the reading group meetup pizza night mentor office hours slack channel "
    "kaggle team hackathon cloud credits gpu cluster access badge invite speaker talk recording"
).split()


def typo(text: str, rng: random.Random) -> str:
    if len(text) < 5 or rng.random() < 0.5:
        return text
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2 :]


def main() -> None:
    rng = random.Random(15)
    wordings = [" ".join(rng.sample(WORDS, rng.randint(4, 8))) + "?" for _ in range(WORDINGS)]
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(Settings(_env_file=None, RE_BOT_DATABASE_URL=f"sqlite:///{folder}/bench.db"))
        log = store.api
        refs = []
        for i in range(QUESTIONS):
            unanswered = rng.random() < UNANSWERED_SHARE
            text = typo(rng.choice(wordings), rng) if unanswered else f"question about {TOPICS[i % len(TOPICS)]}"
            topic = None if unanswered else TOPICS[i % len(TOPICS)]
            asked = AskedQuestion(platform="slack", workspace="T1", text=text, topic=topic,
                                  nearest=tuple(rng.sample(TOPICS, 3)), confidence=0.5)  # fmt: skip
            refs.append((log.record_question(asked, now=NOW - timedelta(minutes=i % 40_000)), topic))
        for ref, topic in rng.sample(refs, VOTES):
            log.record_vote(ref, topic or rng.choice(TOPICS), "slack", f"U{rng.randrange(5000)}", rng.random() < 0.7,
                            now=NOW)  # fmt: skip
        log.question_writer.flush()

        started = time.perf_counter()
        rows = log.logged_questions(since=NOW - timedelta(days=30), workspace="T1")
        read = time.perf_counter() - started
        started = time.perf_counter()
        report = build_report(rows, since=NOW - timedelta(days=30), workspace="T1")
        summary = time.perf_counter() - started
        store.engine.dispose()
    total = read + summary
    print(
        f"report_scale: {len(rows):,} questions ({report.questions - report.answered:,} unanswered in "
        f"{len(report.unanswered):,} groups from {WORDINGS:,} wordings): read {read:.2f} s + summary {summary:.2f} s "
        f"= {total:.2f} s, ratio {total / LIMIT:.2f} of the {LIMIT:g} s limit {'PASS' if total <= LIMIT else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
