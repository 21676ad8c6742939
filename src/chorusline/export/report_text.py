"""Text from the data made readable to an analyst who does not read its script.

Campaigns write in the language of their audience: the seed case's prompt templates are Chinese, and
an operation aimed at Russian or Arabic readers writes in Cyrillic or Arabic. The report shows such
text as it is (a CJK-covering font stack in the CSS renders it) and, under it, a machine
transliteration into Latin letters — Hanyu Pinyin with tone marks for Chinese (``pypinyin``, which
reads words, not single characters, so 行 in 银行 comes out háng), any other script through
``anyascii`` — marked as a transliteration, not a translation: it lets a reader match, search and
read out names and repeated phrases; what the text *means* still needs a translator."""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from itertools import groupby

from anyascii import anyascii
from pypinyin import Style, lazy_pinyin

# a text is shown with a transliteration when at least this share of its letters are not Latin
NON_LATIN_SHARE = 0.3


def _script(ch: str) -> str:
    """The script of one letter, from its Unicode name: LATIN, HAN, KANA, CYRILLIC, ARABIC, HANGUL, …"""
    name = unicodedata.name(ch, "")
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return "KANA"
    if name.startswith(("CJK ", "IDEOGRAPHIC")):
        return "HAN"
    return name.split(" ", 1)[0] if name else "UNKNOWN"


SCRIPT_NAMES = {"HAN": "Chinese", "KANA": "Japanese", "CYRILLIC": "Cyrillic", "ARABIC": "Arabic", "HANGUL": "Korean",
                "HEBREW": "Hebrew", "GREEK": "Greek", "DEVANAGARI": "Devanagari", "THAI": "Thai",
                "PERSIAN": "Persian", "ARMENIAN": "Armenian", "GEORGIAN": "Georgian"}


def non_latin_script(text: str | None) -> str | None:
    """The main non-Latin script of the text (a readable name) when its letters are mostly not
    Latin, else None. Placeholders, numbers and punctuation do not count."""
    if not text:
        return None
    counts: dict[str, int] = {}
    for ch in text:
        if ch.isalpha():
            s = _script(ch)
            counts[s] = counts.get(s, 0) + 1
    letters = sum(counts.values())
    other = {s: n for s, n in counts.items() if s != "LATIN"}
    if not letters or sum(other.values()) < NON_LATIN_SHARE * letters:
        return None
    if "KANA" in other:  # kanji among kana: Japanese, whose Han characters pinyin reads the Chinese way
        return "Japanese"
    top = max(other, key=other.get)
    return SCRIPT_NAMES.get(top, top.title())


def _is_han(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK UNIFIED IDEOGRAPH")


@lru_cache(maxsize=4096)
def transliterate(text: str) -> str:
    """Latin letters for the text: pinyin with tone marks for runs of Chinese characters (a
    syllable each, spaced), anyascii for everything else (kana, Cyrillic, Arabic, Hangul,
    full-width punctuation)."""
    out: list[str] = []
    for han, run in groupby(text, key=_is_han):
        run = "".join(run)
        out.append(" " + " ".join(lazy_pinyin(run, style=Style.TONE)) + " " if han
                   else "".join(map(_latin, run)))
    spaced = " ".join("".join(out).split())
    return re.sub(r"([(\[]) ", r"\1", re.sub(r" ([,.:;!?)\]])", r"\1", spaced))


def _latin(ch: str) -> str:
    """A letter in Latin letters, full-width punctuation as ASCII; anything else (a template's §
    placeholder, digits, symbols) as it is."""
    if ch.isascii():
        return ch
    if ch.isalpha() or unicodedata.name(ch, "").startswith(("FULLWIDTH", "IDEOGRAPHIC")):
        return anyascii(ch)
    return ch


LANG = {"Chinese": "zh", "Japanese": "ja", "Korean": "ko"}  # lets the browser pick the right CJK glyphs


def readable(text: str | None) -> str:
    """HTML for a text cell: the text, and under non-Latin text its transliteration, marked so."""
    if text is None:
        return "–"
    shown = html.escape(str(text))
    script = non_latin_script(str(text))
    if script is None:
        return shown
    note = f"machine transliteration from {html.escape(script)}; not a translation"
    return (f"<span lang='{LANG.get(script, 'und')}'>{shown}</span><span class='translit' lang='und-Latn' "
            f"title='{note}'>{html.escape(transliterate(str(text)))}</span>")
