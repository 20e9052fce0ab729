"""The Discord platform over discord.py: application commands, embeds, persistent buttons, DMs and channel posts.

Named `discord_platform` (not `discord`) so it never shadows the discord.py package.
"""
