"""xmppdctl manages accounts on the live database: add, list, change the
password (old one refused, new one accepted), delete; changing the
password or deleting the account ends its live sessions (bound,
hibernating for XEP-0198, or logged in and not yet bound) with
not-authorized, none of them resumable; without a running xmppd the
changes are made all the same.

The tool itself: --help lists every command, --version answers, an
unknown command and an unknown host are errors, reload says it worked.
adduser without a password prompts on a terminal (no echo, twice,
two different ones refused) and reads one line from a pipe; passwords
shorter than password_min_length are refused, by xmppdctl and by in-band
registration and password changes. status, about, send (to a JID, stored
offline, and to a host, an announcement), roster get/add and
delete_old_archives."""
import asyncio
import os
import pty
import re
import select
import sqlite3
import time

from xdtest import (XMPPDCTL, RawClient, can_login, check, login, logout,
                    main, next_message)


def run(f, *args):
    return asyncio.get_event_loop().run_in_executor(None, f, *args)


async def ended(client, what):
    try:
        cond = await asyncio.wait_for(client.stream_error, 5)
    except asyncio.TimeoutError:
        cond = None
    check(cond == "not-authorized", "%s: the session ends (%s)" % (what, cond))


def on_terminal(rig, args, answers):
    """Runs xmppdctl on a pseudo-terminal, typing each answer after the
    next prompt ending in ': '; returns (status, what the terminal shows)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(XMPPDCTL, [XMPPDCTL, "-c", rig.config] + list(args))
    shown = b""
    pending = list(answers)
    end = time.time() + 15
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 1024)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
            if pending and shown.rstrip().endswith(b":"):
                os.write(fd, pending.pop(0).encode() + b"\n")
                shown += b"\n"
    else:
        os.kill(pid, 9)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    return os.waitstatus_to_exitcode(status), shown.decode(errors="replace")


def iq_reply(c, iq_id):
    """The answer to iq `iq_id`: a result may be one empty element."""
    head = c.expect("id='%s'" % iq_id)
    rest = c.expect("/>")
    if "type='result'" in head + rest and "<error" not in rest:
        return head + rest
    return head + rest + c.expect("</iq>")


def raw_password_change(rig, user, password, new):
    c = RawClient(rig)
    c.login(user, password)
    c.bind("pw")
    c.send("<iq type='set' id='c1'><query xmlns='jabber:iq:register'>"
           "<username>%s</username><password>%s</password></query></iq>"
           % (user, new))
    reply = iq_reply(c, "c1")
    c.drop()
    return reply


def raw_register(rig, user, password):
    c = RawClient(rig)
    c.expect("</stream:features>")
    c.send("<iq type='set' id='r1'><query xmlns='jabber:iq:register'>"
           "<username>%s</username><password>%s</password></query></iq>"
           % (user, password))
    reply = iq_reply(c, "r1")
    c.drop()
    return reply


async def the_tool(rig):
    r = rig.ctl("--help")
    check(r.returncode == 0 and all(
        cmd in r.stdout for cmd in (
            "adduser", "passwd", "deluser", "listusers", "sessions", "kick",
            "stats", "reload", "status", "about", "check", "backup",
            "restore", "send", "roster", "delete_old_archives", "cert",
            "rooms", "destroy_room")),
        "--help lists the commands: %r" % r.stdout[:300])
    r = rig.ctl("--version")
    check(r.returncode == 0 and r.stdout.startswith("xmppdctl "),
          "--version: %r" % r.stdout)
    r = rig.ctl("frobnicate")
    check(r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr,
          "an unknown command says so: %r" % r.stderr)
    r = rig.ctl("listusers", "nowhere.example")
    check(r.returncode == 1 and "not one of the hosts" in r.stderr,
          "listusers of a host not served is an error: %r" % r.stderr)
    r = rig.ctl("reload")
    check(r.returncode == 0 and "reloaded" in r.stdout,
          "reload says it succeeded: %r" % r.stdout)


async def passwords(rig):
    loop = asyncio.get_event_loop()
    rc, shown = await loop.run_in_executor(
        None, on_terminal, rig, ["adduser", "tina@localhost"],
        ["secret-one", "secret-one"])
    check(rc == 0 and "password for tina@localhost" in shown
          and "Again" in shown and "secret-one" not in shown,
          "adduser on a terminal prompts twice, no echo: %r" % shown)
    check(await can_login(rig, "tina@localhost", "secret-one"),
          "the password typed works")
    rc, shown = await loop.run_in_executor(
        None, on_terminal, rig, ["passwd", "tina@localhost"],
        ["secret-two", "secret-tw0"])
    check(rc == 1 and "differ" in shown,
          "two different passwords are refused: %r" % shown)
    check(await can_login(rig, "tina@localhost", "secret-one"),
          "and nothing changed")
    r = rig.ctl("adduser", "uma@localhost", stdin="piped-pw\nsecond\n")
    check(r.returncode == 0 and await can_login(rig, "uma@localhost",
                                                "piped-pw"),
          "adduser reads one line from a pipe")

    rig.xmppd_keys["password_min_length"] = 8
    rig.xmppd_keys["registration"] = "true"
    rig.xmppd_keys["registration_interval_s"] = 0
    rig.xmppd_keys["password_change_interval_s"] = 0
    rig.write_config()
    check(rig.ctl("reload").returncode == 0, "reloaded with a minimum of 8")
    r = rig.ctl("adduser", "vic@localhost", "seven77")
    check(r.returncode == 1 and "shorter than 8" in r.stderr,
          "adduser refuses a short password: %r" % r.stderr)
    r = rig.ctl("passwd", "uma@localhost", stdin="short\n")
    check(r.returncode == 1 and "shorter than 8" in r.stderr,
          "passwd refuses a short password: %r" % r.stderr)
    r = rig.ctl("adduser", "vic@localhost", "eight888")
    check(r.returncode == 0, "a password of 8 characters is taken")
    r = rig.ctl("adduser", "wes@localhost", "\u00e9\u00e9\u00e9\u00e9"
                "\u00e9\u00e9\u00e9\u00e9")
    check(r.returncode == 0, "the length counts characters, not bytes")
    reply = await loop.run_in_executor(None, raw_register, rig, "xena",
                                       "short")
    check("not-acceptable" in reply,
          "registration refuses a short password: %r" % reply)
    reply = await loop.run_in_executor(None, raw_register, rig, "xena",
                                       "long-enough")
    check("type='result'" in reply or 'type="result"' in reply,
          "and takes a long one: %r" % reply)
    reply = await loop.run_in_executor(None, raw_password_change, rig,
                                       "xena", "long-enough", "tiny")
    check("not-acceptable" in reply,
          "a password change to a short one is refused: %r" % reply)
    check(await can_login(rig, "xena@localhost", "long-enough"),
          "and the password is unchanged")
    rig.xmppd_keys["password_min_length"] = 1
    rig.write_config()
    check(rig.ctl("reload").returncode == 0, "reloaded with a minimum of 1")


async def commands(rig):
    r = rig.ctl("status")
    check(r.returncode == 0 and "xmppd is running" in r.stdout
          and re.search(r"^uptime_s \d+$", r.stdout, re.M)
          and "hosts localhost" in r.stdout,
          "status: %r" % r.stdout)
    r = rig.ctl("about")
    check(r.returncode == 0 and "OpenSSL" in r.stdout and "SQLite" in
          r.stdout and "c-ares" in r.stdout and "running xmppd: 0." in
          r.stdout, "about: %r" % r.stdout)

    rig.adduser("yul@localhost", "pw")
    rig.adduser("zed@localhost", "pw")
    r = rig.ctl("send", "yul@localhost", "the", "server", "<says> hi")
    check(r.returncode == 0, "send to an offline account: %r" % r.stderr)
    y = await login(rig, "yul@localhost/desk", "pw")
    y.send_presence()  # offline messages come after the initial presence
    m = await next_message(y)
    check(m["body"] == "the server <says> hi" and str(m["from"]) ==
          "localhost", "it comes from offline storage: %s" % m)
    z = await login(rig, "zed@localhost/desk", "pw")
    r = rig.ctl("send", "localhost", "maintenance at noon")
    check(r.returncode == 0 and "sent to 2 session(s)" in r.stdout,
          "an announcement to a host: %r %r" % (r.stdout, r.stderr))
    for c in (y, z):
        m = await next_message(c)
        check(m["body"] == "maintenance at noon" and m["type"] == "headline",
              "everyone online gets it: %s" % m)
    await logout(y, z)

    r = rig.ctl("roster", "add", "yul@localhost", "zed@localhost", "Zed",
                "Friends", "Work")
    check(r.returncode == 0, "roster add: %r" % r.stderr)
    r = rig.ctl("roster", "get", "yul@localhost")
    check(r.stdout == "zed@localhost\tZed\tnone\tFriends,Work\n",
          "roster get: %r" % r.stdout)
    y = await login(rig, "yul@localhost/desk", "pw")
    roster = await y.get_roster()
    items = roster["roster"]["items"]
    check("zed@localhost" in [str(k) for k in items],
          "the client sees the added contact: %s" % items)
    await logout(y)

    db = sqlite3.connect(rig.xmppd_keys["db_path"])
    old = int(time.time()) - 10 * 86400
    with db:
        db.execute("INSERT INTO archive (host, user, sid, peer, stamp, "
                   "stanza) VALUES ('localhost', 'yul', 'old1', "
                   "'zed@localhost', ?, '<message/>')", (old,))
        db.execute("INSERT INTO archive (host, user, sid, peer, stamp, "
                   "stanza) VALUES ('localhost', 'yul', 'new1', "
                   "'zed@localhost', ?, '<message/>')", (int(time.time()),))
    r = rig.ctl("delete_old_archives", "7")
    sids = [row[0] for row in db.execute(
        "SELECT sid FROM archive WHERE user = 'yul'")]
    db.close()
    check(r.returncode == 0 and "1 archived message(s)" in r.stdout
          and "old1" not in sids and "new1" in sids,
          "delete_old_archives 7 keeps the recent one: %r %r"
          % (r.stdout, sids))
    r = rig.ctl("delete_old_archives", "soon")
    check(r.returncode == 2, "a bad number of days is refused")


def hibernating_session(rig, user, password):
    c = RawClient(rig)
    c.login(user, password)
    c.bind("phone")
    c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
    sm_id = re.search(r"id='([^']+)'", c.expect("/>")).group(1)
    c.drop()
    rig.xmppd.wait_log("%s@localhost/phone: connection lost" % user)
    return sm_id


def unbound_session(rig, user, password):
    c = RawClient(rig)
    c.login(user, password)
    return c


def resume(rig, user, password, sm_id):
    c = RawClient(rig)
    c.login(user, password)
    c.send("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>" % sm_id)
    answer = c.expect("/>")
    c.drop()
    return answer


async def sessions_end(rig):
    rig.adduser("erin@localhost", "pw1")
    e = await login(rig, "erin@localhost/desk", "pw1")
    sm_id = await run(hibernating_session, rig, "erin", "pw1")
    u = await run(unbound_session, rig, "erin", "pw1")
    r = rig.ctl("passwd", "erin@localhost", "pw2")
    check(r.returncode == 0 and "3 session(s) ended" in r.stdout,
          "passwd ends the sessions: %r %r" % (r.stdout, r.stderr))
    await ended(e, "passwd")
    rest = await run(u.expect, "</stream:stream>")
    check("not-authorized" in rest, "not yet bound, ended too: %r" % rest)
    await run(rig.xmppd.wait_log, "session erin@localhost/phone ended", 5)
    answer = await run(resume, rig, "erin", "pw2", sm_id)
    check("item-not-found" in answer, "not resumable: " + answer)
    await logout(e)

    rig.adduser("fred@localhost", "pw")
    f = await login(rig, "fred@localhost/desk", "pw")
    r = rig.ctl("deluser", "fred@localhost")
    check(r.returncode == 0 and "1 session(s) ended" in r.stdout,
          "deluser ends the session: %r %r" % (r.stdout, r.stderr))
    await ended(f, "deluser")
    await logout(f)



async def test(rig):
    # Without a running xmppd there is no session to end: no complaint.
    rig.adduser("gina@localhost", "pw")
    r = rig.ctl("passwd", "gina@localhost", "pw2")
    check(r.returncode == 0 and r.stderr == "",
          "passwd with xmppd stopped: %r" % r.stderr)
    r = rig.ctl("deluser", "gina@localhost")
    check(r.returncode == 0 and r.stderr == "",
          "deluser with xmppd stopped: %r" % r.stderr)
    r = rig.ctl("status")
    check(r.returncode == 3 and "not running" in r.stdout,
          "status without xmppd: exit 3: %r" % r.stdout)
    rig.start_xmppd()
    await the_tool(rig)
    await passwords(rig)
    await commands(rig)
    await sessions_end(rig)
    r = rig.ctl("adduser", "bob@localhost", stdin="first-pw\n")
    check(r.returncode == 0, "adduser reads the password from stdin")
    r = rig.ctl("adduser", "Carol@LOCALHOST", "pw")
    check(r.returncode == 0, "adduser with the password as an argument")
    r = rig.ctl("adduser", "bob@localhost", "again")
    check(r.returncode == 1 and "exists" in r.stderr,
          "adding an existing account fails")
    r = rig.ctl("adduser", "dave@elsewhere.example", "pw")
    check(r.returncode == 1 and "not one of the hosts" in r.stderr,
          "a host that is not served is refused")
    r = rig.ctl("listusers")
    check(r.stdout.split() == ["bob@localhost", "carol@localhost",
                               "erin@localhost", "tina@localhost",
                               "uma@localhost", "vic@localhost",
                               "wes@localhost", "xena@localhost",
                               "yul@localhost", "zed@localhost"],
          "listusers shows prepared JIDs: %r" % r.stdout)
    check(await can_login(rig, "bob@localhost", "first-pw"),
          "the running server sees the new account")
    r = rig.ctl("passwd", "bob@localhost", "second-pw")
    check(r.returncode == 0, "passwd")
    check(not await can_login(rig, "bob@localhost", "first-pw"),
          "the old password is refused")
    check(await can_login(rig, "bob@localhost", "second-pw"),
          "the new password works")
    r = rig.ctl("deluser", "bob@localhost")
    check(r.returncode == 0, "deluser")
    check(not await can_login(rig, "bob@localhost", "second-pw"),
          "a deleted account cannot log in")
    r = rig.ctl("deluser", "bob@localhost")
    check(r.returncode == 1 and "no such account" in r.stderr,
          "deleting it twice fails")


main(test)
