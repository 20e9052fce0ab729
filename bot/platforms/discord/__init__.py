"""The Discord platform over discord.py: application commands, embeds, persistent buttons, DMs and channel posts.

Modules here import discord.py as `discord` (absolute imports), so this package's own name never shadows it.
"""
