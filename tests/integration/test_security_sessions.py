"""Sessions under attack (issue 11): resuming a live XEP-0198 session
takes it over and ends the old connection, while a session an
administrator kicked cannot be resumed (finding 1); the queues kept for
unacknowledged stanzas are bounded in bytes per session and for the
whole server, and passing a bound ends the session without losing
anything (finding 12); password changes are rate-limited per account and
their key derivation does not stall other users (finding 13)."""
import asyncio
import re
import socket
import ssl
import time

from xdtest import (TIMEOUT, RawClient, Rig, check, login, logout, main,
                    next_message, read_until_closed)


def run(f, *args):
    return asyncio.get_event_loop().run_in_executor(None, f, *args)


def session(rig, user, resource, resume=False, rcvbuf=None):
    """A raw, bound session (TLS); with resume, XEP-0198 on and its id
    in c.sm_id. rcvbuf shrinks the socket's receive buffer, so that the
    server's output to a client that stops reading stays queued."""
    if rcvbuf is None:
        c = RawClient(rig)
    else:
        c = RawClient.__new__(RawClient)
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(TIMEOUT)
        s.connect(("127.0.0.1", rig.c2s_tls_port))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.s = ctx.wrap_socket(s)
        c.buf = ""
        c.send("<?xml version='1.0'?><stream:stream to='localhost' "
               "xmlns='jabber:client' "
               "xmlns:stream='http://etherx.jabber.org/streams' "
               "version='1.0'>")
    c.login(user, "pencil")
    c.bind(resource)
    if resume:
        c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
        enabled = c.expect("/>")
        check("<enabled" in enabled, enabled)
        c.sm_id = re.search(r"id='([^']+)'", enabled).group(1)
    return c


def ping(c, pid):
    """A round trip to the server: everything sent before is handled."""
    c.send("<iq type='get' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>" % pid)
    c.expect("id='%s'" % pid)


def flood(sender, to, n, size):
    body = "x" * size
    for i in range(n):
        sender.send("<message type='chat' to='%s' id='f%d'><body>%d %s"
                    "</body></message>" % (to, i, i, body))
    ping(sender, "flooded")


def try_resume(rig, user, sm_id):
    c = RawClient(rig)
    c.login(user, "pencil")
    c.send("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>" % sm_id)
    return c, c.expect("/>")


# --- finding 1 -------------------------------------------------------------

def resume_live_session(rig):
    a = session(rig, "alice", "desk", resume=True)
    ping(a, "a1")
    b, answer = try_resume(rig, "alice", a.sm_id)
    check("<resumed" in answer and a.sm_id in answer,
          "a live session is taken over by <resume/>: " + answer)
    # The old connection ends; the session goes on over the new one.
    old = a.buf + read_until_closed(a.s)
    check("conflict" in old, "the old connection is told why: %r" % old[-300:])
    ping(b, "b1")
    listing = rig.ctl("sessions").stdout
    check(listing.count("alice@localhost/desk") == 1 and
          "hibernating" not in listing, "one live session: %r" % listing)
    b.send("</stream:stream>")
    read_until_closed(b.s)


def kicked_is_not_resumable(rig):
    # A client whose output is stuck: the kick's stream error waits behind
    # it, so the kicked session stays around while it closes.
    a = session(rig, "carol", "desk", resume=True, rcvbuf=4096)
    d = session(rig, "dave", "desk")
    flood(d, "carol@localhost/desk", 80, 100000)
    r = rig.ctl("kick", "carol@localhost/desk")
    check(r.returncode == 0, "kick: " + r.stderr)
    check("session carol@localhost/desk ended" not in rig.xmppd.text(),
          "the kicked session is still closing")
    b, answer = try_resume(rig, "carol", a.sm_id)
    check("<failed" in answer and "item-not-found" in answer,
          "a kicked session cannot be resumed: " + answer)
    b.drop()
    a.drop()
    d.drop()
    rig.xmppd.wait_log("session carol@localhost/desk ended")


# --- finding 12 ------------------------------------------------------------

def hibernate(rig, user, resource):
    c = session(rig, user, resource, resume=True)
    c.send("<presence/>")
    ping(c, "h1")
    c.drop()
    rig.xmppd.wait_log("%s@localhost/%s: connection lost" % (user, resource))


async def offline_bodies(rig, user, n):
    e = await login(rig, "%s@localhost/again" % user, "pencil")
    e.send_presence()
    got = sorted([int((await next_message(e))["body"].split()[0])
                  for _ in range(n)])
    await logout(e)
    return got


async def session_byte_bound(rig):
    """A hibernating session may hold 1 MiB here: past it, it ends and
    what it held is stored offline, none lost."""
    await run(hibernate, rig, "erin", "tablet")
    s = await run(session, rig, "alice", "desk")
    await run(flood, s, "erin@localhost/tablet", 15, 100000)
    await run(rig.xmppd.wait_log, "session erin@localhost/tablet ended", 5)
    check("unacknowledged bytes" in rig.xmppd.text(), "logged why")
    got = await offline_bodies(rig, "erin", 15)
    check(got == list(range(15)), "nothing was lost: %s" % got)
    s.drop()


async def global_byte_bound(rig):
    """1 MiB for all the hibernating sessions together: the session whose
    stanza passes it ends; the other one goes on waiting."""
    await run(hibernate, rig, "fred", "tablet")
    await run(hibernate, rig, "gina", "tablet")
    s = await run(session, rig, "alice", "desk")
    # A 100 KB message holds about 180 KB: fred's three stay under the
    # bound, gina's six pass it.
    await run(flood, s, "fred@localhost/tablet", 3, 100000)
    await run(flood, s, "gina@localhost/tablet", 6, 100000)
    await run(rig.xmppd.wait_log, "session gina@localhost/tablet ended", 5)
    listing = rig.ctl("sessions").stdout
    check("fred@localhost/tablet" in listing and "hibernating" in listing,
          "the session under the bound waits on: %r" % listing)
    got = await offline_bodies(rig, "gina", 6)
    check(got == list(range(6)), "nothing was lost: %s" % got)
    s.drop()


# --- finding 13 ------------------------------------------------------------

def change_request(i, password):
    return ("<iq type='set' id='pw%d'><query xmlns='jabber:iq:register'>"
            "<username>alice</username><password>%s</password></query></iq>"
            % (i, password))


def answers(c, ids):
    """The iq answers with these ids, by id, in whatever order they come."""
    got, end = {}, 0
    deadline = time.monotonic() + TIMEOUT
    while len(got) < len(ids) and time.monotonic() < deadline:
        for m in re.finditer(r"<iq [^>]*id='(pw\d+)'[^>]*?(/>|>.*?</iq>)",
                             c.buf, re.S):
            if m.group(1) in ids:
                got[m.group(1)] = m.group(0)
                end = max(end, m.end())
        if len(got) < len(ids):
            c.s.settimeout(TIMEOUT)
            c.buf += c.s.recv(65536).decode(errors="replace")
    c.buf = c.buf[end:]
    check(len(got) == len(ids), "all answered: %s" % sorted(got))
    return got


def pipelined_password_changes(rig):
    """Each change costs about 700 ms of PBKDF2 here. Alice pipelines ten;
    Bob's pings must not wait for them, and Alice gets one change and nine
    resource-constraint errors of type wait."""
    bob = session(rig, "bob", "desk")
    alice = session(rig, "alice", "desk")
    other = session(rig, "alice", "laptop")
    ping(bob, "warm")
    n = 10
    alice.send("".join(change_request(i, "new%d" % i) for i in range(n)))
    worst, i = 0.0, 0
    t_end = time.monotonic() + 1.0
    while time.monotonic() < t_end:
        t = time.monotonic()
        ping(bob, "rtt%d" % i)
        worst = max(worst, time.monotonic() - t)
        i += 1
    check(worst < 0.3, "another user's ping waits %.0f ms at worst"
          % (worst * 1000))
    got = answers(alice, ["pw%d" % i for i in range(n)])
    check("type='result'" in got["pw0"], "the first change is made: "
          + got["pw0"])
    for i in range(1, n):
        check("type='error'" in got["pw%d" % i] and
              "resource-constraint" in got["pw%d" % i] and
              "type='wait'" in got["pw%d" % i],
              "the others are refused (wait): " + got["pw%d" % i])
    # A moment later an account may change its password again.
    time.sleep(2.1)
    alice.send(change_request(50, "pencil"))
    again = answers(alice, ["pw50"])["pw50"]
    check("type='result'" in again, "changed again later: " + again)
    # Not from another connection of the account either, right away.
    other.send(change_request(51, "other"))
    soon = answers(other, ["pw51"])["pw51"]
    check("resource-constraint" in soon and "type='wait'" in soon,
          "one change per account per interval: " + soon)
    other.drop()
    # A connection that closes while its keys are derived: the change is
    # thrown away, and nothing else happens to the server.
    time.sleep(2.1)
    alice.send(change_request(60, "lost"))
    alice.drop()
    time.sleep(1)
    c = session(rig, "alice", "other")  # still "pencil"
    ping(c, "alive")
    c.drop()
    bob.drop()


async def test(rig):
    for u in ("alice", "bob", "carol", "dave"):
        rig.adduser("%s@localhost" % u, "pencil")
    rig.start_xmppd()
    await run(resume_live_session, rig)
    await run(kicked_is_not_resumable, rig)

    for keys, case, users in (
            ({"sm_max_unacked_bytes": 1048576}, session_byte_bound,
             ("alice", "erin")),
            ({"sm_max_unacked_bytes_total": 1048576}, global_byte_bound,
             ("alice", "fred", "gina")),
            ({"scram_iterations": 1000000, "password_change_interval_s": 2},
             pipelined_password_changes, ("alice", "bob"))):
        other = Rig(c2s_max_bytes_per_s=0, **keys)
        try:
            for u in users:
                other.adduser("%s@localhost" % u, "pencil")
            other.start_xmppd()
            if asyncio.iscoroutinefunction(case):
                await case(other)
            else:
                await run(case, other)
        except BaseException:
            other.dump_logs()
            raise
        finally:
            other.close()


main(test, c2s_max_bytes_per_s=0, out_high_water_bytes=4194304,
     sm_max_unacked_bytes=33554432)
