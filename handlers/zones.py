"""Time zone names as members type them: the IANA name they mean, or the IANA names to suggest.

Schedules are stored with an IANA zone (never an abbreviation or a UTC offset) so they keep their local time through
daylight saving. Members often type `CET`, `EST`, `GMT+2` or a city (`berlin`, `new york`): those are not accepted
as they are (an abbreviation or an offset does not say which daylight-saving rules apply, a city may be ambiguous),
but they get the IANA name to use ("did you mean Europe/Berlin?").
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from rapidfuzz import fuzz, process

# Abbreviations members use, to the zones they most often mean (first = the suggestion in the corrected command).
ABBREVIATIONS: dict[str, tuple[str, ...]] = {
    "cet": ("Europe/Berlin", "Europe/Paris"), "cest": ("Europe/Berlin", "Europe/Paris"),
    "met": ("Europe/Berlin",), "mez": ("Europe/Berlin",), "mesz": ("Europe/Berlin",),
    "eet": ("Europe/Athens", "Europe/Helsinki"), "eest": ("Europe/Athens", "Europe/Helsinki"),
    "wet": ("Europe/Lisbon",), "west": ("Europe/Lisbon",),
    "bst": ("Europe/London",), "ist": ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem"),
    "msk": ("Europe/Moscow",), "trt": ("Europe/Istanbul",),
    "est": ("America/New_York", "America/Toronto"), "edt": ("America/New_York", "America/Toronto"),
    "et": ("America/New_York",), "cst": ("America/Chicago", "Asia/Shanghai"), "cdt": ("America/Chicago",),
    "ct": ("America/Chicago",), "mst": ("America/Denver", "America/Phoenix"), "mdt": ("America/Denver",),
    "mt": ("America/Denver",), "pst": ("America/Los_Angeles", "America/Vancouver"),
    "pdt": ("America/Los_Angeles", "America/Vancouver"), "pt": ("America/Los_Angeles",),
    "akst": ("America/Anchorage",), "hst": ("Pacific/Honolulu",), "brt": ("America/Sao_Paulo",),
    "art": ("America/Argentina/Buenos_Aires",), "jst": ("Asia/Tokyo",), "kst": ("Asia/Seoul",),
    "hkt": ("Asia/Hong_Kong",), "sgt": ("Asia/Singapore",), "pkt": ("Asia/Karachi",), "wib": ("Asia/Jakarta",),
    "aest": ("Australia/Sydney", "Australia/Brisbane"), "aedt": ("Australia/Sydney",),
    "acst": ("Australia/Adelaide",), "awst": ("Australia/Perth",), "nzst": ("Pacific/Auckland",),
    "nzdt": ("Pacific/Auckland",), "sast": ("Africa/Johannesburg",), "wat": ("Africa/Lagos",),
    "eat": ("Africa/Nairobi",), "cat": ("Africa/Maputo",),
}  # fmt: skip

# Places members name that are not the city in the zone's name.
PLACES: dict[str, str] = {
    "nyc": "America/New_York", "boston": "America/New_York", "washington": "America/New_York",
    "san francisco": "America/Los_Angeles", "sf": "America/Los_Angeles", "seattle": "America/Los_Angeles",
    "bay area": "America/Los_Angeles", "silicon valley": "America/Los_Angeles", "austin": "America/Chicago",
    "dallas": "America/Chicago", "houston": "America/Chicago", "montreal": "America/Toronto",
    "munich": "Europe/Berlin", "frankfurt": "Europe/Berlin", "hamburg": "Europe/Berlin", "germany": "Europe/Berlin",
    "france": "Europe/Paris", "uk": "Europe/London", "england": "Europe/London", "edinburgh": "Europe/London",
    "india": "Asia/Kolkata", "bangalore": "Asia/Kolkata", "bengaluru": "Asia/Kolkata", "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata", "hyderabad": "Asia/Kolkata", "chennai": "Asia/Kolkata",
    "beijing": "Asia/Shanghai", "china": "Asia/Shanghai", "shenzhen": "Asia/Shanghai", "japan": "Asia/Tokyo",
    "korea": "Asia/Seoul", "tel aviv": "Asia/Jerusalem", "israel": "Asia/Jerusalem", "geneva": "Europe/Zurich",
    "barcelona": "Europe/Madrid", "milan": "Europe/Rome", "krakow": "Europe/Warsaw", "st petersburg": "Europe/Moscow",
    "melbourne": "Australia/Melbourne", "canberra": "Australia/Sydney", "wellington": "Pacific/Auckland",
}  # fmt: skip

# Well-known zones offered for a UTC offset, one per region and offset.
_OFFSET_EXAMPLES = (
    "America/Los_Angeles", "America/Denver", "America/Chicago", "America/New_York", "America/Sao_Paulo",
    "Europe/London", "Europe/Lisbon", "Europe/Berlin", "Africa/Lagos", "Europe/Athens", "Africa/Cairo",
    "Africa/Johannesburg", "Europe/Moscow", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata",
    "Asia/Dhaka", "Asia/Bangkok", "Asia/Singapore", "Asia/Shanghai", "Asia/Tokyo", "Australia/Brisbane",
    "Australia/Sydney", "Pacific/Auckland", "Pacific/Honolulu", "America/Anchorage",
)  # fmt: skip
# Two fixed instants, winter and summer in the north, to tell which zones ever use an offset (not "now": a suggestion
# should not depend on the day it is asked).
_SEASONS = (datetime(2025, 1, 15, 12), datetime(2025, 7, 15, 12))
_OFFSET = re.compile(r"^(?:utc|gmt|z)?\s*([+-])\s*([0-9]{1,2})(?::?([0-9]{2}))?$")


@lru_cache(maxsize=1)
def _zones_by_lower() -> dict[str, str]:
    names = {z for z in available_timezones() if "/" in z or z in ("UTC", "GMT")}
    return {z.lower(): z for z in names}


@lru_cache(maxsize=1)
def _cities() -> dict[str, str]:
    """'berlin' -> 'Europe/Berlin', 'new york' -> 'America/New_York', plus PLACES; the first zone for a city wins."""
    cities: dict[str, str] = {}
    for zone in sorted(_zones_by_lower().values()):
        if zone.startswith(("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Chile/", "Mexico/")):
            continue
        cities.setdefault(zone.rsplit("/", 1)[-1].replace("_", " ").lower(), zone)
    return {**cities, **PLACES}


def place_zone(text: str) -> str | None:
    """The zone of a city or place named exactly ('berlin', 'New York', 'bangalore'), or None."""
    return _cities().get(" ".join(text.strip().lower().replace("_", " ").split()))


def parse_zone(word: str) -> str | None:
    """The canonical IANA name for `word` (case-insensitive), or None when it is not a zone."""
    return _zones_by_lower().get(word.strip().lower())


def looks_like_zone(word: str) -> bool:
    """Shaped like an IANA name ('Mars/Olympus'), an abbreviation we know or a UTC offset ('GMT+2')."""
    w = word.strip().lower()
    return "/" in w or w in ("utc", "gmt") or w in ABBREVIATIONS or bool(_OFFSET.match(w))


def _offset_zones(sign: str, hours: int, minutes: int) -> tuple[str, ...]:
    seconds = (hours * 3600 + minutes * 60) * (-1 if sign == "-" else 1)

    def seasons(zone: str) -> list[bool]:
        return [ZoneInfo(zone).utcoffset(t).total_seconds() == seconds for t in _SEASONS]  # type: ignore[union-attr]

    # All year first, then in January, then in July: UTC-5 is New York before Chicago.
    ranked = sorted(
        (z for z in _OFFSET_EXAMPLES if any(seasons(z))), key=lambda z: [not s for s in (all(seasons(z)), *seasons(z))]
    )
    found = ranked[:3]
    if not minutes and hours <= 12:
        # IANA's fixed-offset zones count the other way round: Etc/GMT-2 is UTC+2.
        found.append("UTC" if hours == 0 else f"Etc/GMT{'-' if sign == '+' else '+'}{hours}")
    return tuple(found)


def suggest_zones(text: str) -> tuple[str, ...]:
    """IANA zones `text` probably means when it is not one: an abbreviation, a UTC offset, a city or a typo.

    Empty when nothing is close. `text` may be several words ('new york').
    """
    w = " ".join(text.strip().lower().replace("_", " ").split())
    if not w or len(w) > 60:
        return ()
    if w in ABBREVIATIONS:
        return ABBREVIATIONS[w]
    if m := _OFFSET.match(w):
        hours, minutes = int(m.group(2)), int(m.group(3) or 0)
        return _offset_zones(m.group(1), hours, minutes) if hours <= 14 and minutes < 60 else ()
    cities = _cities()
    if w in cities:
        return (cities[w],)
    if "/" in w:
        names = _zones_by_lower()
        found = process.extractOne(w, list(names), scorer=fuzz.ratio, score_cutoff=85)
        return (names[found[0]],) if found else ()
    if len(w) >= 4:
        found = process.extractOne(w, list(cities), scorer=fuzz.ratio, score_cutoff=85)
        if found:
            return (cities[found[0]],)
    return ()
