"""The Slack platform over slack-bolt: Block Kit rendering, listeners, the scheduler's Sender, `re-bot run` wiring."""
