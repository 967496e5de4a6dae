"""What the demo shows: the activities of a real week at 文博苑社区 and the replayed camera's
timeline. Plain Python (no Kivy, no server), so the tests can check both.

    >>> week = activities(date(2026, 11, 30))      # local clock times, in season, never overlapping
    >>> beats = write_timeline(folder, cards)       # PNGs + timeline.json, played by ReplaySource
    >>> backdate(store, cards, now)                 # the check-in the timeline's check-out closes

Activities are placed at the local times of day they run (a traffic-duty shift at the morning
rush, an evening class at 19:00) on the days they run, whatever the time the demo is started;
what is outdoors follows the season of Datong (snow clearing from November to March, litter
picking from April to October); a festival's activity is listed only in the three weeks
before it, on its day. One activity per slot of the day, and the slots never overlap,
early check-in included: a badge shown during the demo never has two activities to choose from.

The timeline, about two minutes: two check-ins, a repeat, a foreign QR code (a payment code),
a lost (revoked) badge, and a check-out that credits 2.5 hours: that volunteer's check-in
was recorded 150 minutes before the demo started (`backdate`), as if they had come in the
morning, so the demo's clock need not run ahead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")

# The slots of a station's day: (start, end). Each starts at least 30 minutes (the early
# check-in of sync.hours) after the previous one ends.
SLOTS = {
    "rush": (dtime(7, 30), dtime(8, 30)),       # the morning rush: traffic duty, snow before work
    "morning": (dtime(9, 0), dtime(11, 30)),
    "afternoon": (dtime(13, 30), dtime(16, 0)),
    "school": (dtime(16, 30), dtime(18, 0)),     # 四点半课堂: after school
    "evening": (dtime(19, 0), dtime(20, 30)),
}
COLD_MONTHS = {11, 12, 1, 2, 3}                  # Datong: snow from November to March
SCHOOL_HOLIDAYS = [((7, 10), (8, 31)), ((1, 15), (2, 25))]   # summer and winter holidays (roughly)
FESTIVAL_LEAD_DAYS = 21

# Lunar festivals on the solar calendar (from the official calendars).
CHONGYANG = {2026: date(2026, 10, 18), 2027: date(2027, 10, 8), 2028: date(2028, 10, 26),
             2029: date(2029, 10, 16), 2030: date(2030, 10, 5)}
SPRING_FESTIVAL = {2027: date(2027, 2, 6), 2028: date(2028, 1, 26), 2029: date(2029, 2, 13),
                   2030: date(2030, 2, 3), 2031: date(2031, 1, 23)}

PLACE = "文博苑社区"
TEAM_NEIGHBOURS = "文博苑社区“邻里关照”志愿服务队"
TEAM_VETERANS = "平城区退役军人“军魂闪耀”志愿服务队"
TEAM_WOMEN = "平城区巾帼志愿服务队"
TEAM_YOUTH = "平城区青年志愿服务队"
TEAM_TRAFFIC = "大同市文明交通志愿服务队"
TEAMS = [TEAM_VETERANS, TEAM_NEIGHBOURS, TEAM_WOMEN, TEAM_YOUTH, TEAM_TRAFFIC]


def _a(id, title, category, place, team, capacity, description) -> dict:
    return dict(id=id, title=title, category=category, place=place, team=team, capacity=capacity,
                description=description)


REGULAR = {
    "yizhen": _a("demo-yizhen", "义诊体检进社区", "健康义诊", "文博苑社区卫生服务站", TEAM_NEIGHBOURS, 40,
                 "为辖区老人免费测量血压、血糖，提供用药咨询和健康指导。"),
    "ketang": _a("demo-ketang", "四点半课堂", "关爱少年儿童", "文博苑社区活动室", TEAM_YOUTH, 20,
                 "放学后陪伴双职工家庭的孩子完成作业、阅读绘本。"),
    "fanzha": _a("demo-fanzha", "社区夜校：防范电信诈骗", "理论宣讲", "文博苑社区会议室", TEAM_VETERANS, 60,
                 "民警和志愿者讲解常见诈骗手法，教老人识别陌生来电和链接。"),
    "jiaotong": _a("demo-jiaotong", "文明交通劝导", "文明交通", "魏都大道与文博路路口", TEAM_TRAFFIC, 12,
                   "早高峰在路口劝导行人和非机动车遵守交通信号，礼让斑马线。"),
    "qingxue": _a("demo-qingxue", "清扫积雪，方便出行", "环境整治", "文博苑小区主干道和人行道", TEAM_VETERANS, 30,
                  "雪后清扫小区主干道、人行道和台阶，给路口撒防滑沙。"),
    "laji": _a("demo-laji", "城市垃圾捡拾", "环境整治", "御河生态园东岸", TEAM_YOUTH, 50,
               "沿河步道捡拾垃圾，宣传垃圾分类。"),
    "huoqi": _a("demo-huoqi", "冬季用火用电安全入户宣传", "平安建设", "文博苑社区各楼栋", TEAM_WOMEN, 20,
                "入户提醒独居老人安全用电、用火取暖，检查燃气报警器。"),
    "yangquan": _a("demo-yangquan", "文明养犬宣传", "文明风尚", "文博苑社区广场", TEAM_WOMEN, 15,
                   "傍晚遛狗高峰时宣传牵绳遛犬、及时清理粪便。"),
    "xuanjiang": _a("demo-xuanjiang", "理论宣讲：身边的好人好事", "理论宣讲", "文博苑社区会议室", TEAM_NEIGHBOURS, 60,
                    "百姓宣讲员讲述身边的志愿故事。"),
    "zoufang": _a("demo-zoufang", "走访独居老人", "邻里互助", "文博苑社区各楼栋", TEAM_NEIGHBOURS, 10,
                  "上门看望独居和空巢老人，帮忙买菜、打扫，登记他们的需要。"),
}

FESTIVALS = [  # (key, the festival's date in a year or None, slot, activity)
    ("xueleifeng", lambda y: date(y, 3, 5), "morning",
     _a("demo-xueleifeng", "学雷锋志愿服务集中日", "学雷锋", "文博苑社区广场", TEAM_YOUTH, 80,
        "理发、磨刀、修家电、量血压，志愿者在广场集中服务居民。")),
    ("qingming", lambda y: date(y, 4, 4), "morning",
     _a("demo-qingming", "清明节文明祭扫宣传", "文明祭扫", "文博苑社区广场", TEAM_YOUTH, 20,
        "倡导鲜花祭扫、网络祭扫，发放文明祭扫倡议书。")),
    ("chongyang", lambda y: CHONGYANG.get(y), "afternoon",
     _a("demo-chongyang", "“我们的节日·重阳”敬老茶话会", "我们的节日", "文博苑社区活动室", TEAM_WOMEN, 40,
        "为社区老人理发、包饺子，陪老人聊天拉家常。")),
    ("zhiyuanzhe", lambda y: date(y, 12, 5), "morning",
     _a("demo-zhiyuanzhe", "国际志愿者日志愿服务展示", "志愿服务", "文博苑社区广场", TEAM_NEIGHBOURS, 50,
        "各志愿服务队展示一年来的服务项目，招募新志愿者。")),
    ("dongzhi", lambda y: date(y, 12, 22), "afternoon",
     _a("demo-dongzhi", "“我们的节日·冬至”包饺子", "我们的节日", "文博苑社区活动室", TEAM_WOMEN, 30,
        "邻里一起包饺子，给独居老人送上热饺子。")),
    ("chunlian", lambda y: SPRING_FESTIVAL.get(y) and SPRING_FESTIVAL[y] - timedelta(days=7), "morning",
     _a("demo-chunlian", "写春联、送福字", "我们的节日", "文博苑社区活动室", TEAM_VETERANS, 40,
        "书法志愿者现场写春联、送福字，送给辖区居民。")),
]


def at_local(day: date, clock: dtime) -> int:
    return int(datetime.combine(day, clock, tzinfo=TZ).timestamp())


def school_day(day: date) -> bool:
    if day.weekday() >= 5:
        return False
    for (m1, d1), (m2, d2) in SCHOOL_HOLIDAYS:
        if date(day.year, m1, d1) <= day <= date(day.year, m2, d2):
            return False
    return True


def next_weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def activities(today: date) -> list[dict]:
    """The demo week from `today` (the station's local date): each activity with starts_at and
    ends_at (Unix seconds) at its slot's local times. Independent of the time of day."""
    plan: dict[tuple[date, str], dict] = {}
    cold = today.month in COLD_MONTHS
    d = lambda n: today + timedelta(days=n)   # noqa: E731
    plan[(today, "morning")] = REGULAR["yizhen"]
    if school_day(today):
        plan[(today, "school")] = REGULAR["ketang"]
    plan[(today, "evening")] = REGULAR["fanzha"]
    if cold:
        plan[(d(1), "rush")] = REGULAR["qingxue"]
        plan[(d(1), "afternoon")] = REGULAR["huoqi"]
    else:
        plan[(d(1), "morning")] = REGULAR["laji"]
        plan[(d(1), "evening")] = REGULAR["yangquan"]
    plan[(next_weekday(d(2)), "rush")] = REGULAR["jiaotong"]
    plan[(d(2), "morning")] = REGULAR["xuanjiang"]
    plan[(d(3), "afternoon")] = REGULAR["zoufang"]
    for _key, when, slot, activity in FESTIVALS:
        for year in (today.year, today.year + 1):
            day = when(year)
            if day and 0 <= (day - today).days <= FESTIVAL_LEAD_DAYS:
                plan[(day, slot)] = activity          # the festival takes its slot that day
    out = []
    for (day, slot), activity in sorted(plan.items(), key=lambda kv: (kv[0][0], SLOTS[kv[0][1]][0])):
        start, end = SLOTS[slot]
        # Each activity once in the week: its id stays the plain one (demo-yizhen …).
        out.append(dict(activity, starts_at=at_local(day, start), ends_at=at_local(day, end)))
    return out


# --- the replayed camera's timeline ------------------------------------------------------------

@dataclass(frozen=True)
class Beat:
    file: str
    card: int | None        # index into the demo's badge cards; None: the foreign QR code
    expect: str             # what the kiosk answers: checked_in / repeat / refused:foreign / …
    hold: float = 2.0       # seconds in front of the camera
    pause: float = 14.0     # seconds of nothing after it (the feedback screen is read)


FOREIGN_TEXT = "https://qr.alipay.com/fkx0demo-not-a-badge"
CHECKOUT_CARD = 4            # checked in 150 minutes before the demo started (`backdate`)
BACKDATE_MINUTES = 150
REVOKED_CARD = 5             # serial 6: reported lost at the center

TIMELINE = [
    Beat("01-checkin.png", 1, "checked_in"),
    Beat("02-checkin.png", 2, "checked_in"),
    Beat("03-repeat.png", 1, "repeat"),
    Beat("04-foreign.png", None, "refused:foreign"),
    Beat("05-lost-badge.png", REVOKED_CARD, "refused:revoked"),
    Beat("06-checkout.png", CHECKOUT_CARD, "checked_out"),
    Beat("07-checkin.png", 3, "checked_in", pause=20.0),
]


def timeline_seconds() -> float:
    return sum(b.hold + b.pause for b in TIMELINE)


def write_timeline(folder: Path, cards: list[dict]) -> list[Beat]:
    """The badge pictures in `folder` and its timeline.json (kiosk.scanner.replay plays it once)."""
    from sync.printing import badge_png, qr_image
    folder.mkdir(parents=True, exist_ok=True)
    for beat in TIMELINE:
        if beat.card is None:
            qr_image(FOREIGN_TEXT, box_size=8).save(folder / beat.file)
        else:
            c = cards[beat.card]
            badge_png(c["token"], c["name"], c["team"], c["vid"], c["role"], folder / beat.file)
    spec = {"loop": False, "beats": [{"file": b.file, "hold": b.hold, "pause": b.pause, "expect": b.expect}
                                     for b in TIMELINE]}
    (folder / "timeline.json").write_text(json.dumps(spec, ensure_ascii=False, indent=1), encoding="utf-8")
    return TIMELINE


CANDIDATE_MINUTES = (150, 165, 135, 180, 120, 195, 210, 105, 90)


def backdate(store, cards: list[dict], now: int, within: float | None = None) -> dict:
    """Record the check-in the timeline's check-out will close, as the kiosk would have
    recorded it earlier today (a real check-in, through the rules, with its outbox event).
    The time is 150 minutes back, or the nearest whole quarter hour back at which no
    activity was open whose automatic close comes before the timeline's end (its check-out
    would then be a late one, for review): the check-out credits those hours, as shown."""
    from kiosk.attendance import Attendance
    from sync import hours
    desk = Attendance(store)
    finish = now + (timeline_seconds() if within is None else within) + 60
    since_midnight = (now - at_local(datetime.fromtimestamp(now, TZ).date(), dtime(0, 0))) // 60
    token = cards[CHECKOUT_CARD]["token"]
    for minutes in CANDIDATE_MINUTES:
        at = now - minutes * 60
        if minutes >= since_midnight:
            continue
        open_then = desk.open_activities(at)
        if len(open_then) > 1:
            continue
        if open_then and hours.auto_close_at(at, open_then[0].ends_at, desk.rules_for(open_then[0])) <= finish:
            continue
        return desk.scan(token, at=at).as_dict()
    return desk.scan(token, at=now - max(1, min(BACKDATE_MINUTES, since_midnight - 1)) * 60).as_dict()
