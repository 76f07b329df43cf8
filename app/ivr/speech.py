"""Rendering flow prompts for a call, and matching what a caller said to options."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from app.ivr.actions import Play, Prompt, PromptItem
from app.ivr.schema import ANY_LANGUAGE, Audio, Flow, PromptSpec

_NOT_WORD = re.compile(r"[^\w]+")
_LATIN_END = 0x0250  # end of the Latin Extended-B block


class _KeepUnknown(dict[str, str]):
    """Leaves placeholders without a value as written, e.g. {position} for the queue."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def pick_language(
    values: Mapping[str, str], language: str, default_language: str
) -> tuple[str, str] | None:
    """The (language, value) to use: the call's, any-language, the default, English, any."""
    for code in (language, ANY_LANGUAGE, default_language, "en"):
        if code in values:
            return code, values[code]
    return next(iter(values.items()), None)


def render(
    flow: Flow, prompt: PromptSpec, language: str, values: Mapping[str, str]
) -> list[PromptItem]:
    """Turn a flow prompt into what to say or play for a call in `language`."""
    rendered: list[PromptItem] = []
    for part in prompt:
        if isinstance(part, Audio):
            found = pick_language(part.urls, language, flow.default_language)
            if found is not None:
                rendered.append(Play(found[1]))
            continue
        found = pick_language(part.texts, language, flow.default_language)
        if found is None:
            continue
        code, text = found
        spoken = language if code == ANY_LANGUAGE else code
        rendered.append(say(flow, fill(text, values), spoken))
    return rendered


def say(flow: Flow, text: str, language: str) -> Prompt:
    """A Prompt in the voice of a flow language."""
    voice = flow.voice(language)
    code = language if language in flow.languages else flow.default_language
    return Prompt(text, code, voice.voice, voice.say_language)


def fill(text: str, values: Mapping[str, str]) -> str:
    """Fill {placeholders}; a malformed template is spoken as written rather than failing."""
    try:
        return text.format_map(_KeepUnknown(values))
    except (ValueError, KeyError, IndexError, AttributeError, TypeError):
        return text


def spoken_number(number: str | None) -> str:
    """A phone number as separate digits, so <Say> reads it digit by digit."""
    return " ".join(ch for ch in (number or "") if ch.isdigit())


def normalise(text: str) -> str:
    """Case-fold, unify widths and drop accents on Latin letters, for matching speech."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept: list[str] = []
    for ch in folded:
        if ord(ch) < _LATIN_END:
            ch = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
        kept.append(ch)
    return " ".join(_NOT_WORD.sub(" ", "".join(kept)).split())


def _position(text: str, keyword: str) -> int | None:
    word = normalise(keyword)
    if not word:
        return None
    latin = ord(word[0]) < _LATIN_END
    for found in re.finditer(re.escape(word), text):
        before = text[found.start() - 1] if found.start() else " "
        # Latin words match at a word start ("pay" is not in "repay"); words of scripts
        # written without spaces (Japanese) match anywhere.
        if not latin or not (before.isalnum() and ord(before) < _LATIN_END):
            return found.start()
    return None


def match_option(text: str, options: Sequence[tuple[str, Iterable[str]]]) -> str | None:
    """The key of the option whose keyword the caller said first, or a spoken key."""
    said = normalise(text)
    if not said:
        return None
    keys = [key for key, _ in options]
    if said in keys:  # "1" or "1." said as the option's key
        return said
    best: tuple[int, int, str] | None = None
    for order, (key, keywords) in enumerate(options):
        for keyword in keywords:
            position = _position(said, keyword)
            if position is not None and (best is None or (position, order) < best[:2]):
                best = (position, order, key)
    return None if best is None else best[2]
