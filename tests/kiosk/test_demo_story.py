"""The demo tells the story (issue 11): its week of activities sits at the local times and in
the season they run, whatever the hour the demo starts; its replayed camera shows check-ins, a
repeat, a foreign code, a lost badge and a check-out crediting real hours, decided here by the
kiosk's own decision path at several hours of a winter and a summer day."""

from __future__ import annotations

from datetime import date, datetime, time as dtime, timedelta

import pytest

from kiosk import demo, demo_story
from kiosk.demo_story import TIMELINE, TZ, activities

DATONG = ("平城区", "云冈区", "新荣区", "云州区", "阳高县", "天镇县", "广灵县", "灵丘县", "浑源县", "左云县", "大同市",
          "文博苑")
TAIYUAN = ("迎泽", "小店区", "杏花岭", "万柏林", "尖草坪", "晋源", "太原")
DAYS = [date(2026, 1, 1) + timedelta(days=n) for n in range(0, 3 * 365, 5)]


def local(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, TZ)


@pytest.mark.parametrize("today", DAYS[::7])
def test_activities_run_at_sensible_local_times_and_never_overlap(today):
    week = activities(today)
    assert week, today
    starts = {start for start, _ in demo_story.SLOTS.values()}
    for a in week:
        start, end = local(a["starts_at"]), local(a["ends_at"])
        assert start.time() in starts and start.date() == end.date(), a
        assert dtime(7, 0) <= start.time() and end.time() <= dtime(21, 0), a
        assert today <= start.date() <= today + timedelta(days=demo_story.FESTIVAL_LEAD_DAYS), a
    early = 30 * 60   # sync.hours: check-in opens 30 minutes early
    spans = sorted((a["starts_at"] - early, a["ends_at"]) for a in week)
    assert all(b[0] >= a[1] for a, b in zip(spans, spans[1:])), "two activities open at once"
    assert len({a["id"] for a in week}) == len(week)


def test_the_week_does_not_depend_on_the_hour_the_demo_starts():
    """Started at 23:00 it lists no 文明交通劝导 at 23:08–01:08: the week is a function of the date."""
    assert activities(date(2026, 11, 30)) == activities(date(2026, 11, 30))
    week = demo.activities()
    assert week == activities(datetime.now(TZ).date())
    traffic = [a for a in week if a["title"] == "文明交通劝导"]
    assert traffic and all(local(a["starts_at"]).time() == dtime(7, 30) for a in traffic)


@pytest.mark.parametrize("today", DAYS)
def test_in_season(today):
    titles = {a["title"]: local(a["starts_at"]).date() for a in activities(today)}
    cold = today.month in (11, 12, 1, 2, 3)
    assert ("清扫积雪，方便出行" in titles) == cold
    assert ("城市垃圾捡拾" in titles) == (not cold)
    for title, day in titles.items():
        if title == "清明节文明祭扫宣传":
            assert (day.month, day.day) == (4, 4)
        if "冬至" in title:
            assert (day.month, day.day) == (12, 22)
        if "重阳" in title:
            assert day == demo_story.CHONGYANG[day.year] and day.month == 10
        if title == "写春联、送福字":
            assert day.month in (1, 2)
        if title == "学雷锋志愿服务集中日":
            assert (day.month, day.day) == (3, 5)
        if title == "四点半课堂":
            assert day.weekday() < 5 and day.month not in (8,)


def test_qingming_in_spring_and_dongzhi_in_winter_only():
    def months(title):
        return {local(a["starts_at"]).month for d in DAYS for a in activities(d) if a["title"] == title}
    assert months("清明节文明祭扫宣传") == {4}
    assert months("“我们的节日·冬至”包饺子") == {12}


def test_teams_and_places_are_datong_and_the_sample_coordinator_has_a_name():
    from kiosk.ui.sample import COORDINATOR, VOLUNTEERS
    for team in demo_story.TEAMS:
        assert any(d in team for d in DATONG) and not any(t in team for t in TAIYUAN), team
    for code, name, tier, parent in demo.NETWORK:
        assert not any(t in name for t in TAIYUAN), name
    districts = {name[:3] for _, name, tier, parent in demo.NETWORK if parent == "DT"}
    assert districts == set(DATONG[:10])
    coordinator = dict((v, n) for v, n, _ in VOLUNTEERS)[COORDINATOR]
    assert "协调" not in coordinator


def test_the_timeline_has_every_beat_and_lasts_a_couple_of_minutes():
    expects = [b.expect for b in TIMELINE]
    assert expects.count("checked_in") >= 2
    for beat in ("repeat", "refused:foreign", "refused:revoked", "checked_out"):
        assert beat in expects
    assert 60 <= demo_story.timeline_seconds() <= 180
    assert TIMELINE[expects.index("repeat")].card == TIMELINE[expects.index("checked_in")].card


@pytest.fixture
def demo_kiosk(tmp_path):
    """A kiosk as the demo makes it: the center's key trusted, serial 6 revoked, the badges."""
    from kiosk.store import Revocation, TrustedKey, db, open_store
    from sync.badges import generate_key, issue, public_key_b64
    key = generate_key()
    people = demo.volunteers(8)

    def make(today: date):
        store = open_store(tmp_path / f"kiosk-{today}-{len(list(tmp_path.iterdir()))}.db")
        TrustedKey.create(kid=key.kid, public_key=public_key_b64(key.public_key))
        store.settings.set(station={"code": "WBY", "name": "文博苑社区", "timezone": "Asia/Shanghai"})
        Revocation.create(serial=demo_story.REVOKED_CARD + 1, vid=people[demo_story.REVOKED_CARD][0], revoked_at=0)
        from kiosk.store import Activity
        for a in activities(today):
            Activity.create(**a)
        cards = [{"token": issue(key, vid, serial, "coordinator" if serial == 1 else "volunteer",
                                 today + timedelta(days=1000)),
                  "name": name, "team": team, "vid": vid, "role": "volunteer", "serial": serial}
                 for serial, (vid, name, team) in enumerate(people, start=1)]
        return store, cards
    yield make
    db.close()


HOURS = [dtime(7, 45), dtime(9, 40), dtime(11, 50), dtime(13, 20), dtime(15, 10), dtime(17, 5), dtime(19, 25),
         dtime(22, 30)]


@pytest.mark.parametrize("today", [date(2026, 12, 1), date(2027, 7, 14), date(2027, 3, 5)])
def test_the_timeline_decided_by_the_kiosk_tells_the_story_at_any_hour(demo_kiosk, tmp_path, today):
    """Pictures written by the demo, decoded by the kiosk's decoder, decided by the kiosk's
    rules at the times the replay shows them: each beat gets the answer it was made for, and
    the check-out credits real hours (2.5 h when nothing stood in the way)."""
    from kiosk.attendance import Attendance
    from kiosk.scanner.decoder import decode
    from kiosk.scanner.replay import load_rgb
    pictures = tmp_path / "replay"
    first_store, cards = demo_kiosk(today)
    demo_story.write_timeline(pictures, cards)
    texts = {b.file: decode(load_rgb(pictures / b.file)) for b in TIMELINE}
    assert all(len(t) == 1 for t in texts.values()), texts
    credited = []
    for clock in HOURS:
        store, _ = demo_kiosk(today) if clock != HOURS[0] else (first_store, cards)
        now = int(datetime.combine(today, clock, tzinfo=TZ).timestamp())
        morning = demo_story.backdate(store, cards, now)
        assert morning["result"] == "checked_in", morning
        desk = Attendance(store)
        at = now
        for beat in TIMELINE:
            decision = desk.scan(texts[beat.file][0], at=int(at))
            got = decision.result if decision.result != "refused" else f"refused:{decision.code}"
            assert got == beat.expect, (clock, beat, decision)
            if beat.expect == "checked_out":
                assert decision.code == "ok" and decision.state == "closed", decision
                credited.append(decision.minutes)
            at += beat.hold + beat.pause
    assert all(m >= 90 for m in credited), credited
    assert credited.count(150) >= len(HOURS) // 2, credited       # 2.5 h, the usual case


def test_the_replay_plays_the_timeline_once_with_its_pauses(demo_kiosk, tmp_path):
    from kiosk.scanner.replay import ReplaySource
    _, cards = demo_kiosk(date(2026, 12, 1))
    demo_story.write_timeline(tmp_path / "replay", cards)
    source = ReplaySource(tmp_path / "replay", fps=5, hold_seconds=3, loop=True)   # the camera asks to loop
    frames = sum(1 for _ in source)                                               # the timeline says once
    assert frames == sum(round(b.hold * 5) + round(b.pause * 5) for b in TIMELINE)
