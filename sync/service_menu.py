"""The service menu (服务菜单) a resident orders from at the kiosk, and the request check
both ends compute. One copy for the kiosk and the center.

A center sets its menu (`sync.server.services.service_menu.set_menu`); its stations' kiosks
get it in the pull as change kind ``service_menu`` (key "menu", data {"items": [...]}).
A kiosk that has none yet uses DEFAULT_MENU. Each item: {"service": name, "presets": [preset
descriptions the resident taps instead of typing]}, and optionally "service_en" and
"presets_en" (one for each preset) for the kiosk in English.

A request's state reaches the kiosks of its station as change kind ``request_state`` (key:
the number; data: state, service, and `check`: a hash of number and the last four digits
of the phone), so the kiosk can show the state to whoever types the same two things,
offline too, without ever holding the phone number.
"""

from __future__ import annotations

import hashlib

DEFAULT_MENU: list[dict] = [
    {"service": "上门关怀", "presets": ["独居老人探望", "陪同聊天", "节日慰问"]},
    {"service": "家电维修", "presets": ["冰箱不制冷", "洗衣机不转", "电视没信号", "灯不亮"]},
    {"service": "理发", "presets": ["行动不便，请上门", "老人理发", "儿童理发"]},
    {"service": "助餐送餐", "presets": ["午餐一份", "晚餐一份", "少盐少油"]},
    {"service": "陪诊就医", "presets": ["陪同复查", "代取药品", "陪同挂号"]},
    {"service": "法律咨询", "presets": ["家庭纠纷", "劳动争议", "遗嘱继承"]},
    {"service": "心理疏导", "presets": ["情绪低落", "家庭关系", "孩子教育"]},
    {"service": "代购代办", "presets": ["代购生活用品", "代缴水电费", "代办证件"]},
]
MAX_ITEMS = 30
MAX_PRESETS = 10
MAX_TEXT = 100
RATING_COMMENTS = ("准时到达", "态度很好", "技术专业", "细心耐心", "解决了问题", "还需改进")


def check(number: str, last4: str) -> str:
    """What a kiosk compares: sha256 of "NUMBER:LAST4" (the number in capitals)."""
    return hashlib.sha256(f"{number.strip().upper()}:{last4.strip()}".encode()).hexdigest()


# What a menu text may not hold: control characters, lone surrogates (not UTF-8: the
# database refuses them, a 500 before), line and paragraph separators, and the bidi
# overrides and isolates that make a name read backwards on a page or the kiosk.
_INVISIBLE = frozenset("\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _unprintable(text: str) -> bool:
    return any(ord(c) < 32 or 0x7f <= ord(c) < 0xa0 or 0xd800 <= ord(c) < 0xe000 or c in _INVISIBLE
               for c in text)


class MenuError(ValueError):
    """Why a menu is refused: `key` (a stable word for pages: services, item, name, presets,
    preset, name_en, presets_en) and `index` (the service's place, from 0; None for the
    whole menu); the message says it in English."""

    def __init__(self, key: str, message: str, index: int | None = None):
        super().__init__(message if index is None else f"service {index + 1}: {message}")
        self.key, self.index = key, index


def clean_menu(items) -> list[dict]:
    """A menu as given (a list of {"service", "presets"[, "service_en", "presets_en"]}),
    checked; MenuError (a ValueError) says why."""
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ITEMS:
        raise MenuError("services", f"a menu has 1 to {MAX_ITEMS} services")
    out, seen = [], set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MenuError("item", "each service is {service, presets}", index)
        name = str(item.get("service", "")).strip()
        presets = item.get("presets", [])
        if not name or len(name) > MAX_TEXT or _unprintable(name) or name in seen:
            raise MenuError("name", f"a service name is 1 to {MAX_TEXT} characters, each once", index)
        if not isinstance(presets, list) or len(presets) > MAX_PRESETS:
            raise MenuError("presets", f"at most {MAX_PRESETS} preset descriptions per service", index)
        presets = [str(p).strip() for p in presets]
        if any(not p or len(p) > MAX_TEXT or _unprintable(p) for p in presets):
            raise MenuError("preset", f"a preset description is 1 to {MAX_TEXT} characters", index)
        seen.add(name)
        entry = {"service": name, "presets": presets}
        # Optional English: the service's name and its presets, in the same order. The
        # kiosk shows them in English; the order keeps the Chinese preset the center reads.
        name_en = str(item.get("service_en") or "").strip()
        presets_en = item.get("presets_en") or []
        if not isinstance(presets_en, list):
            raise MenuError("presets_en", "presets_en is a list", index)
        presets_en = [str(p).strip() for p in presets_en]
        if len(name_en) > MAX_TEXT or _unprintable(name_en):
            raise MenuError("name_en", f"an English name is at most {MAX_TEXT} characters", index)
        if presets_en and (len(presets_en) != len(presets)
                           or any(not p or len(p) > MAX_TEXT or _unprintable(p) for p in presets_en)):
            raise MenuError("presets_en", "English presets: one for each Chinese preset, in the same order, "
                                          f"1 to {MAX_TEXT} characters", index)
        if name_en:
            entry["service_en"] = name_en
        if presets_en:
            entry["presets_en"] = presets_en
        out.append(entry)
    return out
