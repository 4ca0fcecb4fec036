"""Explicit time expressions in a query, resolved to a [start, end) range against a reference date.

Covers what people ask memory and say in conversation: 'yesterday', 'tomorrow', 'last week',
'3 days ago', 'in May 2023', 'on 8 May', 'last Saturday' / 'last Fri', '2022'. Calendar arithmetic
is dateutil's; the phrase grammar is small on purpose.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from dateutil.relativedelta import relativedelta

_MONTHS = {m: i + 1 for i, m in enumerate(
    "january february march april may june july august september october november december".split())}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_WEEKDAYS = {d: i for i, d in enumerate("monday tuesday wednesday thursday friday saturday sunday".split())}
# short forms, except 'sat' and 'sun': "when I last sat down" names no day
_WEEKDAYS.update({"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4})
_WEEKDAY_RE = "|".join(sorted(_WEEKDAYS, key=len, reverse=True))
_UNITS = {"day": "days", "week": "weeks", "month": "months", "year": "years"}
_NUMBERS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}
_NUMBERS.update({"a": 1, "an": 1, "couple": 2, "few": 3})

_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_TO = r"\s*(?:-|\u2013|to|until|through|thru)\s*"  # "June 2-4", "2 to 4 June": a range of days
_PATTERNS = [
    ("ago", re.compile(r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                       r"couple|few)\s+(?:of\s+)?(day|week|month|year)s?\s+ago\b")),
    ("rel", re.compile(r"\b(yesterday|today|tomorrow|tonight|last night|this morning)\b")),
    ("lastunit", re.compile(r"\b(last|this|past|previous|next)\s+(day|week|month|year|weekend)\b")),
    ("weekday", re.compile(rf"\b(last|this|next)\s+({_WEEKDAY_RE})\b\.?")),
    ("daymonth", re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:{_TO}(\d{{1,2}})(?:st|nd|rd|th)?)?"
                            rf"\s+(?:of\s+)?({_MONTH_RE})\.?,?\s*(\d{{4}})?\b")),
    ("monthday", re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?!\d)"
                            rf"(?:{_TO}(\d{{1,2}})(?:st|nd|rd|th)?(?!\d))?,?\s*(\d{{4}})?\b")),
    ("monthyear", re.compile(rf"\b({_MONTH_RE})\.?,?\s+(?:of\s+)?(\d{{4}})\b")),
    ("month", re.compile(rf"\b(?:in|during|since|by|last|this)\s+({_MONTH_RE})\b")),
    ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
    ("year", re.compile(r"\b(?:in|during|since|of|by)\s+((?:19|20)\d{2})\b")),
]

TimeRange = tuple[float, float]

# Said when something happened without a date to resolve: still how a reader dates an event.
_VAGUE = re.compile(r"\b(ago|recently|lately|the other day|weekends?)\b", re.IGNORECASE)


def strip(text: str) -> str:
    """`text` without its time expressions: what a query is about, once its 'when' is a filter."""
    low = text.lower()
    kept = list(text if len(text) == len(low) else low)  # a few letters change length in lower()
    for _, pattern in _PATTERNS:
        for m in pattern.finditer(low):
            kept[m.start():m.end()] = " " * (m.end() - m.start())
    return " ".join("".join(kept).split())


def vague_time(text: str) -> bool:
    """Whether `text` says when only vaguely ('the other day', 'two weekends ago'), which `resolve`
    leaves unresolved."""
    return _VAGUE.search(text) is not None


def _span(start: datetime, delta: relativedelta | timedelta) -> TimeRange:
    return start.timestamp(), (start + delta).timestamp()


def _day(d: datetime) -> datetime:
    return d.replace(hour=0, minute=0, second=0, microsecond=0)


def _amount(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word]


def resolve(query: str, reference: float, nearest: bool = False) -> TimeRange | None:
    """The first time expression in `query` as an epoch range, or None if it names no time.
    `nearest` for statements: a date without a year may be the coming one."""
    text = query.lower()
    ref = datetime.fromtimestamp(reference, tz=UTC)
    today = _day(ref)
    for kind, pattern in _PATTERNS:
        m = pattern.search(text)
        if not m:
            continue
        try:
            result = _resolve_match(kind, m, ref, today, nearest)
        except (ValueError, KeyError, OverflowError):
            continue  # e.g. '31 February': not a date, keep looking
        if result is not None:
            return result
    return None


def _without_year(start: datetime, today: datetime, nearest: bool) -> datetime:
    """A day named without its year: the last one (a question asks about what happened), or,
    for something said, the nearer of the last and the next ('June 2-4' said in December is
    the coming June)."""
    past = start if start <= today else start.replace(year=start.year - 1)
    if not nearest:
        return past
    coming = past.replace(year=past.year + 1)
    return coming if coming - today < today - past else past


def _resolve_match(kind: str, m: re.Match[str], ref: datetime, today: datetime,
                   nearest: bool = False) -> TimeRange | None:
    if kind == "ago":
        n, unit = _amount(m.group(1)), _UNITS[m.group(2)]
        center = today - relativedelta(**{unit: n})
        slack = relativedelta(**{unit: 1})
        return (center - slack).timestamp(), (center + slack + timedelta(days=1)).timestamp()
    if kind == "rel":
        word = m.group(1)
        shift = {"yesterday": -1, "last night": -1, "tomorrow": 1}.get(word, 0)
        return _span(today + timedelta(days=shift), timedelta(days=1))
    if kind == "lastunit":
        which, unit = m.group(1), m.group(2)
        step = -1 if which in ("last", "past", "previous") else (1 if which == "next" else 0)
        if unit == "day":
            return _span(today + timedelta(days=step), timedelta(days=1))
        if unit in ("week", "weekend"):
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=step)
            if unit == "weekend":
                return _span(monday + timedelta(days=5), timedelta(days=2))
            return _span(monday, timedelta(weeks=1))
        if unit == "month":
            first = today.replace(day=1) + relativedelta(months=step)
            return _span(first, relativedelta(months=1))
        first = today.replace(month=1, day=1) + relativedelta(years=step)
        return _span(first, relativedelta(years=1))
    if kind == "weekday":
        which, target = m.group(1), _WEEKDAYS[m.group(2)]
        delta = (today.weekday() - target) % 7
        if which == "last":
            delta = delta or 7
            return _span(today - timedelta(days=delta), timedelta(days=1))
        if which == "next":
            return _span(today + timedelta(days=(target - today.weekday()) % 7 or 7), timedelta(days=1))
        return _span(today - timedelta(days=today.weekday()) + timedelta(days=target), timedelta(days=1))
    if kind in ("daymonth", "monthday"):
        if kind == "daymonth":
            day_n, last, month, year = int(m.group(1)), m.group(2), _MONTHS[m.group(3)], m.group(4)
        else:
            month, day_n, last, year = _MONTHS[m.group(1)], int(m.group(2)), m.group(3), m.group(4)
        start = today.replace(year=int(year) if year else ref.year, month=month, day=day_n)
        if not year:
            start = _without_year(start, today, nearest)
        days = int(last) - day_n + 1 if last and int(last) > day_n else 1
        return _span(start, timedelta(days=days))  # through the whole last day
    if kind == "monthyear":
        start = today.replace(year=int(m.group(2)), month=_MONTHS[m.group(1)], day=1)
        return _span(start, relativedelta(months=1))
    if kind == "month":
        start = today.replace(month=_MONTHS[m.group(1)], day=1)
        if start > today:
            start = start.replace(year=start.year - 1)
        return _span(start, relativedelta(months=1))
    if kind == "iso":
        start = today.replace(year=int(m.group(1)), month=int(m.group(2)), day=int(m.group(3)))
        return _span(start, timedelta(days=1))
    if kind == "year":
        return _span(today.replace(year=int(m.group(1)), month=1, day=1), relativedelta(years=1))
    return None
