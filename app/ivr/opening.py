"""When the line opens again, said the way a person would say it, in the call's language.

`opens_at` and `now` are aware datetimes in the team's time zone; the phrase fits the
shipped prompts ("We open again {opens_at}."): "tomorrow at 9 AM", "mañana a las 9 de la
mañana", "demain à 9 h", "morgen um 9 Uhr", "明日の午前9時から".
"""

from __future__ import annotations

from datetime import datetime

WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "ja": ("月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"),
}
MONTHS = {
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio",
        "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "de": (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    ),
}  # fmt: skip
# Said when no opening time is known (a team without coverage rules).
UNKNOWN = {
    "en": "as soon as a specialist is on duty",
    "es": "en cuanto haya un especialista disponible",
    "fr": "dès qu'un conseiller sera disponible",
    "de": "sobald ein Mitarbeiter im Dienst ist",
    "ja": "担当者が対応可能になり次第",
}
WEEK = 7


def spoken_opening(opens_at: datetime | None, now: datetime | None, language: str) -> str:
    """When the line opens again, relative to `now` (a full date when `now` is unknown)."""
    code = language.split("-")[0].lower()
    if code not in UNKNOWN:
        code = "en"
    if opens_at is None:
        return UNKNOWN[code]
    if now is None:
        return _PHRASES[code](opens_at, WEEK)
    days = (opens_at.date() - now.astimezone(opens_at.tzinfo).date()).days
    return _PHRASES[code](opens_at, days)


def _en(at: datetime, days: int) -> str:
    hour = at.hour % 12 or 12
    clock = f"{hour}{f':{at.minute:02d}' if at.minute else ''} {'AM' if at.hour < 12 else 'PM'}"
    if at.hour == 12 and at.minute == 0:
        clock = "noon"
    return f"{_en_day(at, days)} at {clock}"


def _en_day(at: datetime, days: int) -> str:
    if days <= 0:
        return "today"
    if days == 1:
        return "tomorrow"
    weekday = WEEKDAYS["en"][at.weekday()]
    if days < WEEK:
        return f"on {weekday}"
    return f"on {weekday}, {MONTHS['en'][at.month - 1]} {at.day},"


def _es(at: datetime, days: int) -> str:
    hour = at.hour % 12 or 12
    article = "a la" if hour == 1 else "a las"
    clock = f"{hour}:{at.minute:02d}" if at.minute else f"{hour}"
    if at.hour < 6:
        part = "de la madrugada"
    elif at.hour < 12:
        part = "de la mañana"
    elif at.hour < 19:
        part = "de la tarde"
    else:
        part = "de la noche"
    if at.hour == 12 and at.minute == 0:
        return f"{_es_day(at, days)} al mediodía"
    return f"{_es_day(at, days)} {article} {clock} {part}"


def _es_day(at: datetime, days: int) -> str:
    if days <= 0:
        return "hoy"
    if days == 1:
        return "mañana"
    weekday = WEEKDAYS["es"][at.weekday()]
    if days < WEEK:
        return f"el {weekday}"
    return f"el {weekday} {at.day} de {MONTHS['es'][at.month - 1]}"


def _fr(at: datetime, days: int) -> str:
    clock = f"{at.hour} h {at.minute:02d}" if at.minute else f"{at.hour} h"
    if at.hour == 12 and at.minute == 0:
        clock = "midi"
    if days <= 0:
        day = "aujourd'hui"
    elif days == 1:
        day = "demain"
    elif days < WEEK:
        day = WEEKDAYS["fr"][at.weekday()]
    else:
        first = "1er" if at.day == 1 else str(at.day)
        day = f"le {WEEKDAYS['fr'][at.weekday()]} {first} {MONTHS['fr'][at.month - 1]}"
    return f"{day} à {clock}"


def _de(at: datetime, days: int) -> str:
    clock = f"{at.hour}:{at.minute:02d} Uhr" if at.minute else f"{at.hour} Uhr"
    if days <= 0:
        day = "heute"
    elif days == 1:
        day = "morgen"
    elif days < WEEK:
        day = f"am {WEEKDAYS['de'][at.weekday()]}"
    else:
        day = f"am {WEEKDAYS['de'][at.weekday()]}, dem {at.day}. {MONTHS['de'][at.month - 1]},"
    return f"{day} um {clock}"


def _ja(at: datetime, days: int) -> str:
    half = "午前" if at.hour < 12 else "午後"
    hour = at.hour % 12
    clock = f"{half}{hour}時{f'{at.minute}分' if at.minute else ''}"
    if days <= 0:
        day = "本日"
    elif days == 1:
        day = "明日"
    elif days < WEEK:
        day = WEEKDAYS["ja"][at.weekday()]
    else:
        day = f"{at.month}月{at.day}日({WEEKDAYS['ja'][at.weekday()]})"
    return f"{day}の{clock}から"


_PHRASES = {"en": _en, "es": _es, "fr": _fr, "de": _de, "ja": _ja}
