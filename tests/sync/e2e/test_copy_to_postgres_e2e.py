"""A center that began on SQLite moves to PostgreSQL (`weiguang server copy-to-postgres`):
a real `weiguang server run` on SQLite takes a kiosk's pushes, is stopped, its data folder's
database is copied into an empty PostgreSQL database, and the same server started on it with
DATABASE_URL (two workers) knows everything: the kiosk's token, every event (a resend is a
duplicate, nothing counted twice), the same counts; new rows get new ids. A second copy
into the now full database, a URL that is not PostgreSQL and one that answers nothing are
refused with a clear code, and change nothing."""

from __future__ import annotations

import json
import uuid

import psycopg2
import requests

from tests.conftest import reset_postgres
from tests.sync.e2e.test_workers_e2e import T0, Workers, batches_for, cli, event


class Center(Workers):
    """`weiguang server run` on the data folder as it is (init and sites done once, on SQLite)."""

    def __init__(self, data, url, workers):
        from tests.sync.e2e.conftest import free_port
        self.data, self.url_db, self.workers, self.port = data, url, workers, free_port()


def push(center: Center, token: str, batch: list[dict]) -> list[tuple[str, str | None]]:
    answer = requests.post(center.url + "/api/v1/events", json={"events": batch}, timeout=60,
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return [(r["status"], r.get("code")) for r in answer.json()["results"]]


def stats(data, url=None) -> dict:
    return json.loads(cli("server", "stats", "--data", data, "--json", url=url).stdout.splitlines()[-1])


def test_a_sqlite_center_moves_to_postgresql_and_forgets_nothing(postgres_url, tmp_path):
    reset_postgres(postgres_url)
    data = tmp_path / "center"
    Workers(data, None, 1)                   # server init + the network, on the data folder's SQLite
    with Center(data, None, 1) as center:
        device, token = center.enrol()
        checkins, checkouts = batches_for(device, 30)
        assert {s for s, _ in push(center, token, checkins)} == {"stored"}
        assert {s for s, _ in push(center, token, checkouts)} == {"stored"}
        elsewhere = event(device, 61, "checkin", {"session_id": str(uuid.uuid4()), "vid": "V0001", "serial": 1,
                                                  "at": T0, "activity_id": "no-such-activity"})
        assert push(center, token, [elsewhere]) == [("refused", "activity_not_here")]
    before = stats(data)
    assert before["events"] == {"checkin": 30, "checkout": 30} and sum(before["sessions"].values()) == 30

    done = cli("server", "copy-to-postgres", "--data", data, "--to", postgres_url, "--json")
    copied = json.loads(done.stdout.splitlines()[-1])
    assert copied["tables"]["events"] == 60 and copied["tables"]["sessions"] == 30
    assert copied["tables"]["refusals"] == 1 and copied["tables"]["device"] == 1
    assert copied["rows"] == sum(copied["tables"].values())
    assert stats(data, url=postgres_url) == before              # the same center, counted on PostgreSQL

    with Center(data, postgres_url, 2) as center:
        # the kiosk's token still opens the door; its resent batches are duplicates, once each
        assert {s for s, _ in push(center, token, checkins)} == {"duplicate"}
        assert {s for s, _ in push(center, token, checkouts)} == {"duplicate"}
        # new rows: a new refusal takes an id after the copied one (the sequence was moved)
        again = event(device, 62, "checkin", {"session_id": str(uuid.uuid4()), "vid": "V0002", "serial": 1,
                                              "at": T0, "activity_id": "no-such-activity"})
        assert push(center, token, [again]) == [("refused", "activity_not_here")]
        late = batches_for(device, 1)[0][0]
        late["seq"] = 63
        assert push(center, token, [late]) == [("stored", None)]
    with psycopg2.connect(postgres_url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT id FROM refusals ORDER BY id")
        ids = [i for (i,) in cursor.fetchall()]
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM events")
        events = cursor.fetchone()
        cursor.execute("SELECT COUNT(*), SUM(minutes) FROM sessions WHERE check_out_at IS NOT NULL")
        closed = cursor.fetchone()
    conn.close()
    assert len(ids) == 2 and ids[1] > ids[0]
    assert events == (61, 61)                                   # the 60 copied + the late one (refused: not kept)
    assert closed == (30, 30 * 60)

    # a second copy into the database now in use: refused, nothing touched
    after = stats(data, url=postgres_url)
    refused = cli("server", "copy-to-postgres", "--data", data, "--to", postgres_url, "--json", check=False)
    assert refused.returncode == 1 and json.loads(refused.stdout.splitlines()[-1])["error"] == "target_not_empty"
    assert stats(data, url=postgres_url) == after


def test_a_copy_to_a_wrong_or_silent_target_is_refused_clearly(tmp_path):
    data = tmp_path / "center"
    cli("server", "init", "--data", data, "--admin-password", "e2e-admin-pw")
    for url, code in [(f"sqlite:///{tmp_path}/other.db", "bad_target"),
                      ("postgresql://postgres:s3cret@127.0.0.1:1/nowhere", "target_unreachable")]:
        done = cli("server", "copy-to-postgres", "--data", data, "--to", url, "--json", check=False)
        assert done.returncode == 1, done.stderr
        answer = json.loads(done.stdout.splitlines()[-1])
        assert answer["error"] == code and "s3cret" not in answer["message"] and "Traceback" not in done.stderr
    done = cli("server", "copy-to-postgres", "--data", tmp_path / "empty", "--to", "postgresql://x@127.0.0.1/y",
               "--json", check=False)
    assert done.returncode == 1 and json.loads(done.stdout.splitlines()[-1])["error"] == "no_source"
