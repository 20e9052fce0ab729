"""Errors that more than one layer raises, kept below them all so that raising one never imports the CLI."""


class StartupError(Exception):
    """An operator's mistake (bad content, bad configuration): printed as is, exit status 1, no traceback."""
