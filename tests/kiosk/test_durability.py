"""A kiosk loses power: every check-in the screen acknowledged survives a kill -9."""

import os
import signal
import subprocess
import sys
import textwrap

from kiosk.store import OutboxEvent, Session, db, open_store

CHILD = textwrap.dedent("""
    import sys
    from kiosk.attendance import Attendance
    from kiosk.store import TrustedKey, open_store
    from sync.badges import generate_key, issue, public_key_b64

    store = open_store(sys.argv[1])
    key = generate_key()
    TrustedKey.create(kid=key.kid, public_key=public_key_b64(key.public_key))
    desk = Attendance(store)
    print("ready", flush=True)
    for n in range(1, 100000):
        decision = desk.scan(issue(key, f"V{n:08d}", n))
        # the screen shows the result only after scan() returned: this line is the acknowledgement
        print(decision.result, decision.session_id, flush=True)
""")


def test_acknowledged_check_ins_survive_kill_9(tmp_path):
    path = tmp_path / "kiosk.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path)], stdout=subprocess.PIPE, text=True,
                             cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert child.stdout.readline().strip() == "ready"
    acknowledged = []
    for line in child.stdout:
        result, session_id = line.split()
        assert result == "checked_in"
        acknowledged.append(session_id)
        if len(acknowledged) == 300:
            child.send_signal(signal.SIGKILL)  # mid-stream: the next write is in flight
            break
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    open_store(path)
    assert db.execute_sql("pragma integrity_check").fetchone()[0] == "ok"
    stored = {s.id for s in Session.select(Session.id)}
    assert set(acknowledged) <= stored
    # and each stored session still has its outbox event (row and event commit together)
    assert Session.select().count() == OutboxEvent.select().where(OutboxEvent.type == "checkin").count()
