"""xmppdctl backup while messages flow (the copy is one consistent state:
a whole database, every message in it either entirely there or not at
all, those sent before the backup all there), the MUC's database beside
it (FILE.muc); restore refused while xmppd runs; restored into a fresh
state, the accounts, the roster and the offline messages are there."""
import asyncio
import os
import sqlite3

from xdtest import (Rig, check, login, logout, main, next_message, passed)

SENT_BEFORE = 40
SENT_DURING = 200


def offline_bodies(path):
    db = sqlite3.connect(path)
    try:
        ok = db.execute("PRAGMA integrity_check").fetchone()[0]
        rows = db.execute("SELECT stanza FROM offline_messages WHERE "
                          "user = 'bob' ORDER BY id").fetchall()
    finally:
        db.close()
    return ok, [r[0] for r in rows]


async def test(rig):
    loop = asyncio.get_event_loop()
    rig.start_xmppd()
    rig.start_muc()
    rig.adduser("alice@localhost", "pw")
    rig.adduser("bob@localhost", "pw")
    r = rig.ctl("roster", "add", "alice@localhost", "bob@localhost", "Bob")
    check(r.returncode == 0, "bob is on alice's roster")
    a = await login(rig, "alice@localhost/desk", "pw")
    for i in range(SENT_BEFORE):
        a.send_message(mto="bob@localhost", mbody="before %d" % i)
    # An iq round trip: the router has handled every message before it.
    await a["xep_0199"].ping("localhost")
    await asyncio.sleep(0.2)  # the turn's group commit

    backup = os.path.join(rig.dir, "backup.db")
    job = loop.run_in_executor(None, rig.ctl, "backup", backup)
    for i in range(SENT_DURING):
        a.send_message(mto="bob@localhost", mbody="during %d" % i)
        if i % 20 == 0:
            await asyncio.sleep(0.01)
    r = await job
    check(r.returncode == 0 and "backed up to %s" % backup in r.stdout
          and "backed up to %s.muc" % backup in r.stdout,
          "backup while messages flow: %r %r" % (r.stdout, r.stderr))
    await a["xep_0199"].ping("localhost")
    await logout(a)

    ok, bodies = offline_bodies(backup)
    check(ok == "ok", "the backup is a whole database")
    before = [b for b in bodies if ">before " in b]
    check(len(before) == SENT_BEFORE,
          "every message sent before it is in it (%d)" % len(before))
    during = [b for b in bodies if ">during " in b]
    check(all(">during %d<" % i in during[i] for i in range(len(during))),
          "of those sent during it, a prefix in order (%d)" % len(during))
    check(not os.path.exists(backup + ".part"), "no piece left behind")
    muc = sqlite3.connect(backup + ".muc")
    mok = muc.execute("PRAGMA integrity_check").fetchone()[0]
    muc.close()
    check(mok == "ok", "the MUC's database beside it")

    r = rig.ctl("restore", backup)
    check(r.returncode == 1 and "running" in r.stderr,
          "restore refused while xmppd runs: %r" % r.stderr)

    fresh = Rig()
    try:
        r = fresh.ctl("restore", os.path.join(rig.dir, "nothing.db"))
        check(r.returncode == 1, "restore of a missing file fails")
        bogus = os.path.join(fresh.dir, "bogus.db")
        sqlite3.connect(bogus).execute("CREATE TABLE t (x)").connection \
            .commit()
        r = fresh.ctl("restore", bogus)
        check(r.returncode == 1 and "not a backup" in r.stderr,
              "a database that is not a backup is refused: %r" % r.stderr)
        r = fresh.ctl("restore", backup)
        check(r.returncode == 0 and "restored" in r.stdout,
              "restore into a fresh state: %r %r" % (r.stdout, r.stderr))
        r = fresh.ctl("listusers")
        check(r.stdout.split() == ["alice@localhost", "bob@localhost"],
              "the accounts are there: %r" % r.stdout)
        fresh.start_xmppd()
        b = await login(fresh, "bob@localhost/phone", "pw")
        b.send_presence()
        got = []
        for _ in range(len(bodies)):
            got.append((await next_message(b))["body"])
        check(got[:SENT_BEFORE] == ["before %d" % i
                                    for i in range(SENT_BEFORE)]
              and len(got) == len(bodies),
              "the offline messages are delivered (%d)" % len(got))
        await logout(b)
        a = await login(fresh, "alice@localhost/desk", "pw")
        roster = await a.get_roster()
        check("bob@localhost" in [str(k) for k in
                                  roster["roster"]["items"]],
              "and alice's roster has bob")
        await logout(a)
        passed("restored")
    finally:
        fresh.close()


main(test)
