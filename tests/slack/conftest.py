"""Fixtures for the Slack tests (defined in slack_harness.py, next to the helpers the tests import)."""

from slack_harness import fake, slack, slack_store  # noqa: F401
