"""xmppdctl manages accounts on the live database: add, list, change the
password (old one refused, new one accepted), delete; changing the
password or deleting the account ends its live sessions (bound,
hibernating for XEP-0198, or logged in and not yet bound) with
not-authorized, none of them resumable; without a running xmppd the
changes are made all the same."""
import asyncio
import re

from xdtest import RawClient, can_login, check, login, logout, main


def run(f, *args):
    return asyncio.get_event_loop().run_in_executor(None, f, *args)


async def ended(client, what):
    try:
        cond = await asyncio.wait_for(client.stream_error, 5)
    except asyncio.TimeoutError:
        cond = None
    check(cond == "not-authorized", "%s: the session ends (%s)" % (what, cond))


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
    rig.start_xmppd()
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
                               "erin@localhost"],
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
