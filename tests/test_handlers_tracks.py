from __future__ import annotations

from datetime import UTC, datetime

from handlers import Invocation, Services, dispatch, run_action
from handlers.tracks import next_step_index, step_items

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def track(services: Services, text: str = "", user: str = "U1"):
    return dispatch(Invocation(command="re-track", text=text, user=user, now=NOW), services)


def test_lists_every_track(services: Services) -> None:
    reply = track(services)
    listed = " ".join(reply.sections[0].items)
    for t in services.content.tracks:
        assert f"/re-track {t.id}" in listed


def test_shows_steps_and_the_first_step_in_detail_without_a_store(services: Services) -> None:
    swe = next(t for t in services.content.tracks if t.id == "swe-to-re")
    reply = track(services, "swe-to-re")
    assert reply.title == swe.title
    steps = next(s for s in reply.sections if s.text == "**Steps**").items
    assert len(steps) == len(swe.steps) and steps[0].startswith("→ 1.")
    assert any(s.text == f"**Next: {swe.steps[0].title}**" for s in reply.sections)
    assert reply.buttons[0].action == "remind.done" and reply.buttons[0].value == step_items(swe.steps[0])[0]


def test_unknown_track_is_helpful(services: Services) -> None:
    reply = track(services, "astrology")
    assert reply.error and "swe-to-re" in " ".join(s.text for s in reply.sections)


def test_done_items_move_the_member_along(store_services: Services) -> None:
    swe = next(t for t in store_services.content.tracks if t.id == "swe-to-re")
    for item in step_items(swe.steps[0]):
        run_action("remind.done", item, Invocation(command="re-track", user="U7", now=NOW), store_services)
    reply = track(store_services, "swe-to-re", user="U7")
    steps = next(s for s in reply.sections if s.text == "**Steps**").items
    assert steps[0].startswith("✓ 1.") and steps[1].startswith("→ 2.")
    done = {d.item for d in store_services.store.done_items("console", "U7")}
    assert next_step_index(swe, done) == 1


def test_a_finished_track_says_so(services: Services) -> None:
    from handlers.tracks import track_reply

    swe = next(t for t in services.content.tracks if t.id == "swe-to-re")
    everything = {item for step in swe.steps for item in step_items(step)}
    reply = track_reply(services.content, swe, everything)
    assert "finished every step" in reply.sections[-1].text and reply.buttons == ()
