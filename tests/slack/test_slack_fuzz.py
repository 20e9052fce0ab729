"""Signed junk into POST /slack/events: whatever arrives, the endpoint answers without a 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from slack_harness import SlackServer, block_actions

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
_words = st.sampled_from(["/re-faq", "/re-paper", "/re-prompt", "/re-help", "/re-remind", "/nope", "", "/"])


def _mutated(base: dict[str, Any]):
    """A real payload with some of its fields replaced by junk of any type, or removed."""
    keys = list(base)
    return st.dictionaries(st.sampled_from(keys), _json | st.just("__drop__"), max_size=4).map(
        lambda changes: {k: v for k, v in {**base, **changes}.items() if v != "__drop__"}
    )


def _bodies(fake) -> st.SearchStrategy[tuple[str, str]]:
    form = "application/x-www-form-urlencoded"
    button = block_actions(fake, "faq.show#0", "phd")
    action = button["actions"][0]
    event = {"type": "event_callback", "team_id": "T0TEST", "event": {"type": "app_home_opened", "user": "U1"}}
    return st.one_of(
        st.tuples(st.text(max_size=300), st.sampled_from([form, "application/json", "text/plain", ""])),
        st.tuples(
            st.fixed_dictionaries(
                {"command": _words, "text": st.text(max_size=200)},
                optional={
                    "user_id": st.text(max_size=12),
                    "channel_id": st.text(max_size=12),
                    "team_id": st.text(max_size=12),
                    "response_url": st.text(max_size=20),
                },
            ).map(urlencode),
            st.just(form),
        ),
        st.tuples(_mutated(button).map(lambda p: urlencode({"payload": json.dumps(p)})), st.just(form)),
        st.tuples(
            _mutated(action).map(lambda a: urlencode({"payload": json.dumps({**button, "actions": [a]})})),
            st.just(form),
        ),
        st.tuples(_json.map(lambda p: urlencode({"payload": json.dumps(p)})), st.just(form)),
        st.tuples(st.text(max_size=100).map(lambda t: urlencode({"payload": t})), st.just(form)),
        st.tuples(_mutated(event).map(json.dumps), st.just("application/json")),
        st.tuples(
            _mutated(event["event"]).map(lambda e: json.dumps({**event, "event": e})), st.just("application/json")
        ),
        st.tuples(_json.map(json.dumps), st.just("application/json")),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_signed_junk_never_gets_a_5xx(slack: SlackServer, data):
    body, content_type = data.draw(_bodies(slack.fake))
    status, answer = await slack.signed(body, content_type=content_type)
    assert status < 500, (body, answer)
