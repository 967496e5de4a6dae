"""Every text of the dashboard exists in Simplified Chinese and English: each key a
template asks for, and each code a page turns into words (flags, states, roles, tiers,
row errors)."""

from __future__ import annotations

import re
from pathlib import Path

from sync import hours
from sync.server.services import review, scope, sites
from sync.server.web import i18n
from sync.server.web.pages import HERE

KEY = re.compile(r"""\bt\(\s*['"]([a-z_.]+[a-z_])['"]""")


def test_every_template_key_is_translated():
    keys = set()
    for template in Path(HERE / "templates").glob("*.html"):
        keys |= set(KEY.findall(template.read_text(encoding="utf-8")))
    assert len(keys) > 50
    missing = sorted(k for k in keys if k not in i18n.MESSAGES)
    assert not missing, missing
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh and en, key
        assert re.search(r"[\u4e00-\u9fff]", zh) or key == "lang.switch", f"{key}: no Chinese"


def test_every_code_shown_on_a_page_has_words():
    codes = {f"flag.{getattr(hours, n)}" for n in dir(hours) if n.startswith("FLAG_")}
    codes |= {f"flag.{f}" for f in ("late_checkout", "future_time", "unknown_volunteer", "revoked_badge")}
    codes |= {f"review.state.{s}" for s in review.REVIEWABLE if s != "flagged"} | {"review.state.closed"}
    codes |= {f"role.{r}" for r in scope.ROLES} | {f"tier.{t}" for t in sites.TIERS}
    codes |= {f"row.{c}" for c in ("id_card", "bad_vid", "name_empty", "bad_phone", "duplicate", "other_site",
                                   "header", "encoding")}
    codes |= {f"action.{a}" for a in ("user.add", "user.lock", "token.add", "volunteer.import", "badge.issue",
                                      "badge.reissue", "badge.revoke", "session.approve", "session.adjust",
                                      "session.reject", "activity.create", "activity.update", "activity.cancel",
                                      "device.code", "device.revoke")}
    assert not sorted(codes - set(i18n.MESSAGES))


def test_the_translator_falls_back_and_formats():
    zh, en = i18n.translator("zh_CN"), i18n.translator("en")
    assert zh("vol.line", line=3) == "第 3 行" and en("vol.line", line=3) == "Line 3"
    assert en("no.such.key") == "no.such.key"
