"""Where Discord's REST API is (DISCORD_API_URL), and what the bot asks for when it is invited."""

from __future__ import annotations

import base64
import binascii
import re

import discord

DEFAULT_API_BASE = "https://discord.com/api/v10"
SCOPES = ("bot", "applications.commands")
# What the bot does in a channel: read it, post answers and paper posts with embeds, thread a post's study prompts.
PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    embed_links=True,
    read_message_history=True,
)


def api_base(url: str | None) -> str:
    """DISCORD_API_URL as discord.py's route base: a bare host gets Discord's path (`/api/v10`) appended."""
    if not url:
        return DEFAULT_API_BASE
    url = url.rstrip("/")
    if re.search(r"/api/v\d+$", url):
        return url
    return f"{url}/v10" if url.endswith("/api") else f"{url}/api/v10"


def use_api_base(url: str | None) -> str:
    """Point every discord.py REST call (bot HTTP client and interaction webhooks alike) at `url`."""
    base = api_base(url)
    discord.http.Route.BASE = base
    return base


def client_id_from_token(token: str) -> int | None:
    """A bot token's first part is the bot's user id (= application id), base64-encoded."""
    head = token.strip().split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), altchars=b"-_", validate=False).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return int(decoded) if decoded.isdigit() else None


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(client_id, permissions=PERMISSIONS, scopes=SCOPES)
