"""Kiosk catalogs: zh_CN and en have the same keys and placeholders; lookups fall back."""

from __future__ import annotations

import string

import polib
import pytest

from kiosk import i18n
from kiosk.i18n import _, get_language, languages, set_language

REFUSAL_CODES = ("foreign", "malformed", "bad_signature", "unknown_key", "expired", "revoked",
                 "not_in_roster", "choose_activity", "station_closed")


@pytest.fixture(autouse=True)
def restore_language():
    before = get_language()
    yield
    set_language(before)


def entries(code: str) -> dict[str, str]:
    po = polib.pofile(str(i18n.CATALOG_DIR / f"{code}.po"))
    ids = [e.msgid for e in po]
    assert len(ids) == len(set(ids)), f"duplicate msgid in {code}.po"
    return {e.msgid: e.msgstr for e in po}


def placeholders(text: str) -> set[str]:
    return {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field is not None}


def test_languages():
    assert languages()[0] == "zh_CN"
    assert set(languages()) >= {"zh_CN", "en"}


def test_default_is_chinese():
    assert i18n.DEFAULT_LANGUAGE == "zh_CN"


@pytest.mark.parametrize("code", ["en"])
def test_catalogs_have_same_keys(code):
    zh, other = entries("zh_CN"), entries(code)
    assert set(zh) - set(other) == set(), "in zh_CN.po but not in en.po"
    assert set(other) - set(zh) == set(), "in en.po but not in zh_CN.po"


def test_every_catalog_agrees_and_is_translated():
    zh = entries("zh_CN")
    for code in languages():
        cat = entries(code)
        assert set(cat) == set(zh), code
        for msgid, text in cat.items():
            if msgid:
                assert text.strip(), f"{code}: {msgid} untranslated"
                assert placeholders(text) == placeholders(zh[msgid]), f"{code}: {msgid}"


def test_refusals_and_results_present():
    for code in languages():
        cat = entries(code)
        for reason in REFUSAL_CODES:
            assert f"refused.{reason}" in cat
        for key in ("result.checked_in", "result.checked_out", "result.repeat",
                    "activity.station_duty", "scan.prompt", "status.online", "status.offline",
                    "status.syncing"):
            assert key in cat


def test_chinese_texts():
    set_language("zh_CN")
    assert _("result.checked_in", time="08:30") == "签到成功 08:30"
    assert _("result.checked_out", hours=2.5, year_hours=118) == "签退成功 · 本次 2.5 小时 · 今年累计 118 小时"
    assert _("result.repeat") == "已签到"
    assert _("refused.revoked") == "证件已挂失，请联系站点管理员"
    assert _("activity.station_duty") == "站点值班"
    assert _("scan.prompt") == "出示志愿者码"
    assert i18n.refusal("expired") == _("refused.expired")


def test_english_texts():
    assert set_language("en") == "en"
    assert get_language() == "en"
    assert _("refused.revoked") == "This badge was reported lost. Please see the station coordinator."
    assert _("result.checked_in", time="08:30") == "Checked in at 08:30"


@pytest.mark.parametrize("given,expected", [("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("ZH_cn", "zh_CN"),
                                            ("en_US", "en"), ("en-GB", "en")])
def test_language_codes_normalised(given, expected):
    assert set_language(given) == expected


def test_unknown_language_refused():
    with pytest.raises(ValueError):
        set_language("xx")


def test_fallback_to_english_then_msgid(monkeypatch):
    set_language("zh_CN")
    zh = dict(i18n.catalog("zh_CN"))
    del zh["result.repeat"]
    monkeypatch.setitem(i18n._catalogs, "zh_CN", zh)
    assert _("result.repeat") == "Already checked in"
    assert _("no.such.key") == "no.such.key"
    assert _("no.such.{thing}", thing="x") == "no.such.x"


def test_missing_format_argument_does_not_crash():
    set_language("zh_CN")
    assert _("result.checked_in") == "签到成功 {time}"
    assert _("result.checked_out", hours=1) == "签退成功 · 本次 1 小时 · 今年累计 {year_hours} 小时"


def test_on_change_listener():
    seen = []
    i18n.on_change(seen.append)
    try:
        set_language("zh_CN")
        set_language("en")
        set_language("en")
    finally:
        i18n._listeners.remove(seen.append)
    assert seen[-1] == "en" and seen.count("en") == 1
