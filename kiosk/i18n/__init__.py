"""Kiosk message catalogs: Simplified Chinese (default) and English.

Catalogs are the gettext ``.po`` files beside this module, read directly with polib (no
``.mo`` compile step). A msgid is a stable dotted key such as ``"result.checked_in"`` or
``"refused.revoked"``; placeholders are ``str.format`` names::

    from kiosk.i18n import _, set_language
    _("result.checked_in", time="08:30")      # "签到成功 08:30"
    set_language("en")
    refusal("revoked")                        # "This badge was reported lost. ..."

Lookup order: the current language, then English, then the msgid itself (so a missing
translation shows the key instead of crashing a screen). Untranslated and fuzzy entries count
as missing.

Adding a message: add the same msgid to every ``<code>.po`` here (with a ``#.`` comment saying
where it appears); tests/kiosk/test_i18n.py checks that the catalogs agree. Adding a language:
drop a new ``<code>.po`` beside these; ``languages()`` finds it.

No Kivy import; a screen that must redraw on a language switch registers ``on_change``.
"""

from __future__ import annotations

import os
import string
import threading
from pathlib import Path
from typing import Callable

import polib

CATALOG_DIR = Path(__file__).resolve().parent
DEFAULT_LANGUAGE = "zh_CN"
FALLBACK_LANGUAGE = "en"

# Names to show in a language picker, in the language itself.
LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}

_lock = threading.Lock()
_catalogs: dict[str, dict[str, str]] = {}
_listeners: list[Callable[[str], None]] = []
_current = DEFAULT_LANGUAGE


def languages() -> list[str]:
    """Language codes with a catalog here, the default first."""
    codes = sorted(p.stem for p in CATALOG_DIR.glob("*.po"))
    return sorted(codes, key=lambda c: (c != DEFAULT_LANGUAGE, c != FALLBACK_LANGUAGE, c))


def language_name(code: str) -> str:
    return LANGUAGE_NAMES.get(code, code)


def _normalise(code: str) -> str:
    """Map "zh", "zh-CN", "zh_cn", "en_US", "en-GB" ... to an available catalog code."""
    available = languages()
    if not code:
        raise ValueError("empty language code")
    wanted = code.strip().replace("-", "_")
    by_lower = {c.lower(): c for c in available}
    if wanted.lower() in by_lower:
        return by_lower[wanted.lower()]
    base = wanted.split("_")[0].lower()
    for c in available:  # "zh" -> "zh_CN", "en_US" -> "en"
        if c.split("_")[0].lower() == base:
            return c
    raise ValueError(f"no catalog for language {code!r}; available: {', '.join(available)}")


def catalog(code: str) -> dict[str, str]:
    """msgid -> msgstr of one language (translated, non-fuzzy entries only); cached."""
    cached = _catalogs.get(code)      # a code already read: no look at the folder (every `_` call, UI thread)
    if cached is not None:
        return cached
    code = _normalise(code)
    with _lock:
        cached = _catalogs.get(code)
        if cached is None:
            po = polib.pofile(str(CATALOG_DIR / f"{code}.po"), encoding="utf-8")
            cached = {
                e.msgid: e.msgstr
                for e in po
                if e.msgid and e.msgstr and not e.obsolete and "fuzzy" not in e.flags
            }
            _catalogs[code] = cached
        return cached


def reload() -> None:
    """Forget the parsed catalogs (after editing a .po file at run time)."""
    with _lock:
        _catalogs.clear()


def set_language(code: str) -> str:
    """Switch the language of every later `_` call; returns the catalog code chosen."""
    global _current
    code = _normalise(code)
    catalog(code)  # parse now, so a broken catalog fails here and not mid-screen
    changed = code != _current
    _current = code
    if changed:
        for callback in list(_listeners):
            callback(code)
    return code


def get_language() -> str:
    return _current


def on_change(callback: Callable[[str], None]) -> Callable[[str], None]:
    """Call ``callback(code)`` after each language switch; returns it (usable as decorator)."""
    _listeners.append(callback)
    return callback


class _Keep(dict):
    """format_map mapping that leaves unknown {placeholders} as they are."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _format(text: str, fmt: dict) -> str:
    if not fmt:
        return text
    try:
        return string.Formatter().vformat(text, (), _Keep(fmt))
    except (ValueError, IndexError, AttributeError, KeyError):
        return text


def gettext(msgid: str, language: str | None = None, **fmt) -> str:
    """The translation of ``msgid`` in ``language`` (default: current), formatted with ``fmt``."""
    for code in (language or _current, FALLBACK_LANGUAGE):
        text = catalog(code).get(msgid)
        if text:
            return _format(text, fmt)
    return _format(msgid, fmt)


def _(msgid: str, **fmt) -> str:
    """The translation of ``msgid`` in the current language, formatted with ``fmt``."""
    return gettext(msgid, **fmt)


def refusal(code: str, **fmt) -> str:
    """What a volunteer reads for a refusal reason code (``"revoked"``, ``"expired"``, ...)."""
    return gettext(f"refused.{code}", **fmt)


def has(msgid: str, language: str | None = None) -> bool:
    return msgid in catalog(language or _current)


_env = os.environ.get("WEIGUANG_LANG")
if _env:
    try:
        _current = _normalise(_env)
    except ValueError:
        pass
