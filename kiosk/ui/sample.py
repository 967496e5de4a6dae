"""A sample kiosk for screenshots, benchmarks and the UI tests (not for production data).

    store, tokens = make_kiosk(folder, activities="two", clock=FakeClock())

A kiosk database with its own trusted signing key, four volunteers (the last a
coordinator), activities now and tomorrow, and badge PNGs in folder/badges.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
VOLUNTEERS = [("14020200001", "林建国", "邻里关照志愿服务队"), ("14020200002", "王芳", "邻里关照志愿服务队"),
              ("14020200003", "欧阳娜娜", "军魂闪耀志愿服务队"), ("14020200009", "赵春燕", "")]
COORDINATOR = "14020200009"


class FakeClock:
    """Station time = real time + offset, so a journey can jump ahead two hours."""

    def __init__(self, start: float | None = None):
        self.offset = 0.0 if start is None else start - time.time()

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def local(hh: int, mm: int = 0, days: int = 0) -> int:
    today = datetime.now(TZ).date() + timedelta(days=days)
    return int(datetime(today.year, today.month, today.day, hh, mm, tzinfo=TZ).timestamp())


def make_kiosk(folder: Path, activities: str = "one", clock=None):
    """A kiosk database with a trusted key, a roster, and activities; badge PNGs in folder/badges."""
    from kiosk.store import Activity, TrustedKey, Volunteer, open_store
    from sync.badges import generate_key, issue, public_key_b64
    from sync.printing import qr_image
    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(folder / "kiosk.db", clock=clock) if clock else open_store(folder / "kiosk.db")
    key = generate_key()
    TrustedKey.replace(kid=key.kid, public_key=public_key_b64(key.public_key)).execute()
    store.settings.set(station={"code": "WBY", "name": "文博苑社区", "timezone": "Asia/Shanghai"})
    for vid, name, team in VOLUNTEERS:
        Volunteer.replace(vid=vid, name=name, team=team,
                          role="coordinator" if vid == COORDINATOR else "volunteer").execute()
    now = int((clock or time.time)())
    if activities in ("one", "two"):
        Activity.replace(id="a1", title="义诊体检", category="健康义诊", starts_at=now - 1800, ends_at=now + 3 * 3600,
                         place="文博苑社区卫生室", team="邻里关照志愿服务队", capacity=30, signed_up=12,
                         description="为辖区老人免费测量血压、血糖，提供健康咨询。",
                         signup_url="https://example.org/a/a1").execute()
    if activities == "two":
        Activity.replace(id="a2", title="文明交通劝导", category="文明交通", starts_at=now - 600, ends_at=now + 2 * 3600,
                         place="魏都大道与文博路路口", team="退役军人“军魂闪耀”志愿服务队",
                         description="在路口劝导行人和非机动车遵守交通信号。").execute()
    Activity.replace(id="a3", title="城市垃圾捡拾", category="环境整治", starts_at=now + 86400,
                     ends_at=now + 86400 + 7200, place="御河生态园", team="邻里关照志愿服务队", capacity=50,
                     signed_up=20, description="沿河步道捡拾垃圾。", signup_url="https://example.org/a/a3").execute()
    badges = folder / "badges"
    badges.mkdir(exist_ok=True)
    tokens = {}
    for i, (vid, name, team) in enumerate(VOLUNTEERS, start=1):
        role = "coordinator" if vid == COORDINATOR else "volunteer"
        token = issue(key, vid, i, role, date.today() + timedelta(days=365))
        tokens[vid] = token
        qr_image(token, box_size=8).save(badges / f"{vid}.png")
    qr_image("https://weixin.qq.com/pay/not-a-badge", box_size=8).save(badges / "foreign.png")
    (folder / "tokens.json").write_text(json.dumps(tokens))
    return store, tokens
