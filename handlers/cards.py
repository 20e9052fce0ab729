"""Review cards: what becomes one, its recall questions, and FSRS (the `fsrs` package) deciding when it is due.

A finished paper becomes a card, and so does a finished implementation prompt that has a recall item. The card's
state is FSRS's own (`fsrs.Card`'s fields, kept by the store); ratings go through one `fsrs.Scheduler`. Reviews go
out at most once a day, so the scheduler has no minute-long learning steps (every interval is a whole number of
days, at least one) and no fuzz (the same ratings always give the same dates, which members and tests can check).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fsrs import Card, Rating, Scheduler, State

from content import Content
from content.schema import Recall
from handlers.store_api import CardInfo, ScheduleStore
from handlers.study import current_item, split_item

SCHEDULER = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)
RATINGS: dict[str, Rating] = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good, "easy": Rating.Easy}


def recall_of(content: Content, item: str) -> tuple[Recall, ...]:
    """The recall items of a paper or an implementation prompt (a retired prompt's card asks its replacement's);
    () when the item has none (or is gone)."""
    kind, item_id = split_item(current_item(content, item))
    if kind == "paper" and (paper := content.paper(item_id)) is not None:
        return tuple(paper.recall)
    if kind == "prompt" and (prompt := content.prompt(item_id)) is not None and prompt.kind == "implement":
        return tuple(prompt.recall)
    return ()


def question_of(recall: tuple[Recall, ...], card: CardInfo) -> Recall:
    """The card asks its recall items in turn, one per review."""
    return recall[card.reviews % len(recall)]


def start_card(store: ScheduleStore, content: Content, platform: str, user: str, item: str, now: datetime) -> bool:
    """Make `item` a review card when it has recall questions. True when a new card was made."""
    if not recall_of(content, item):
        return False
    return store.add_card(platform, user, item, now=now)


def to_fsrs(card: CardInfo) -> Card:
    return Card(
        card_id=1,  # fsrs's own id is unused here; passing one stops it reading the clock
        state=State(card.state),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due.astimezone(UTC),
        last_review=card.last_review.astimezone(UTC) if card.last_review else None,
    )


def rate(card: CardInfo, rating: Rating, now: datetime) -> CardInfo:
    """The card after a review with `rating` at `now`, as FSRS schedules it."""
    new, _log = SCHEDULER.review_card(to_fsrs(card), rating, review_datetime=now.astimezone(UTC))
    return CardInfo(
        item=card.item,
        due=new.due,
        state=int(new.state),
        step=new.step,
        stability=new.stability,
        difficulty=new.difficulty,
        last_review=new.last_review,
        reviews=card.reviews + 1,
    )


def retrievability(card: CardInfo, now: datetime) -> float | None:
    """FSRS's estimate that the member recalls the card now; None before its first review."""
    if card.last_review is None:
        return None
    return SCHEDULER.get_card_retrievability(to_fsrs(card), current_datetime=now.astimezone(UTC))


@dataclass(frozen=True)
class ReviewStats:
    cards: int
    learned: int  # reviewed at least once
    retention: float | None  # mean estimated recall of the learned cards now


def review_stats(cards: list[CardInfo], now: datetime) -> ReviewStats:
    recalls = [r for c in cards if (r := retrievability(c, now)) is not None]
    return ReviewStats(len(cards), len(recalls), sum(recalls) / len(recalls) if recalls else None)
