"""Adapters to the outside world: platforms, scheduler, store, configuration and the `re-bot` CLI."""
