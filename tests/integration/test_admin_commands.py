"""XEP-0133 service administration at the host, over XEP-0050 ad-hoc
commands: the accounts listed in `admins` find the commands in disco#items
and run them; anyone else finds none and gets forbidden. add-user,
change-user-password (the account's session ends), delete-user (its session
ends), get-online-users-num and -list, announce (a headline to the host's
sessions), the form errors (bad-request with bad-payload) and shutdown
(the announcement first, then the router exits 0 after the delay)."""
import asyncio
import time

from xdtest import (Failure, can_login, check, login, logout, main,
                    next_message, passed, send_iq, submit_form)

CMD = "http://jabber.org/protocol/commands"
ADMIN = "http://jabber.org/protocol/admin"
XDATA = "jabber:x:data"
NODES = ["add-user", "delete-user", "change-user-password",
         "get-online-users-num", "get-online-users-list", "announce",
         "shutdown"]


async def execute(c, node, form="", sid=None):
    """One command request; returns (reply, error condition, <command/>)."""
    attrs = " sessionid='%s'" % sid if sid else ""
    payload = "<command xmlns='%s' node='%s#%s' action='execute'%s>%s" \
        "</command>" % (CMD, ADMIN, node, attrs, form)
    reply, cond = await send_iq(c, "set", payload, to="localhost")
    return reply, cond, reply.xml.find("{%s}command" % CMD)


async def run(c, node, values):
    """Opens a session, checks its form, submits values; returns the last
    (reply, condition, <command/>)."""
    reply, cond, cmd = await execute(c, node)
    check(cond is None and cmd is not None and
          cmd.get("status") == "executing", "%s shows its form: %s"
          % (node, reply))
    x = cmd.find("{%s}x" % XDATA)
    vars_ = [f.get("var") for f in x.findall("{%s}field" % XDATA)]
    check("FORM_TYPE" in vars_ and all(v in vars_ for v in values),
          "%s's form has the fields %s: %s" % (node, list(values), vars_))
    return await execute(c, node, submit_form(ADMIN, values),
                         sid=cmd.get("sessionid"))


def bad_payload(reply, cond):
    return cond == "bad-request" and \
        reply.xml.find(".//{%s}bad-payload" % CMD) is not None


def completed(cmd):
    return cmd is not None and cmd.get("status") == "completed"


def field_values(cmd, var):
    x = cmd.find("{%s}x" % XDATA)
    for f in x.findall("{%s}field" % XDATA) if x is not None else []:
        if f.get("var") == var:
            return [v.text or "" for v in f.findall("{%s}value" % XDATA)]
    return None


async def test(rig):
    for user in ("admin", "bob", "carol"):
        rig.adduser("%s@localhost" % user, "pw-" + user)
    rig.start_xmppd()
    admin = await login(rig, "admin@localhost", "pw-admin")
    bob = await login(rig, "bob@localhost", "pw-bob")

    # Discovery: the commands feature, the list for the admin only.
    info = await admin["xep_0030"].get_info(jid="localhost")
    check(CMD in info["disco_info"]["features"], "the host lists %s" % CMD)
    items = await admin["xep_0030"].get_items(jid="localhost", node=CMD)
    nodes = [i[1] for i in items["disco_items"]["items"]]
    check(sorted(nodes) == sorted("%s#%s" % (ADMIN, n) for n in NODES),
          "the admin finds the commands: %s" % nodes)
    items = await bob["xep_0030"].get_items(jid="localhost", node=CMD)
    check(not items["disco_items"]["items"],
          "a non-admin finds none: %s" % items)
    for node in ("add-user", "shutdown", "get-online-users-num"):
        _, cond, _ = await execute(bob, node)
        check(cond == "forbidden", "bob running %s: %s" % (node, cond))
    passed("disco lists the commands to admins only; others get forbidden")

    # add-user, through the key derivation worker.
    reply, cond, cmd = await run(admin, "add-user", {
        "accountjid": "new@localhost", "password": "pw-new1",
        "password-verify": "pw-new1"})
    check(cond is None and completed(cmd), "add-user completes: %s" % reply)
    check(await can_login(rig, "new@localhost", "pw-new1"),
          "the new account logs in")
    rig.xmppd.wait_log("new@localhost: account created by admin@localhost")
    # At once, with the form in the first request: the account exists.
    reply, cond, _ = await execute(admin, "add-user", submit_form(ADMIN, {
        "accountjid": "new@localhost", "password": "x1",
        "password-verify": "x1"}))
    check(cond == "conflict" and "<value>x1</value>" not in str(reply),
          "adding it again: conflict, the password not echoed: %s" % reply)
    passed("add-user creates an account; a second time is a conflict")

    # The form errors.
    cases = [
        ({"accountjid": "x@localhost", "password": "a"}, "password-verify"),
        ({"accountjid": "x@localhost", "password": "a",
          "password-verify": "b"}, "match"),
        ({"accountjid": "x@elsewhere.example", "password": "a",
          "password-verify": "a"}, "not an account of localhost"),
        ({"accountjid": "not a jid@@", "password": "a",
          "password-verify": "a"}, "accountjid"),
    ]
    for values, text in cases:
        reply, cond, _ = await execute(admin, "add-user",
                                       submit_form(ADMIN, values))
        check(bad_payload(reply, cond) and text in str(reply),
              "add-user %s: bad-payload naming %r: %s" % (values, text, reply))
    check(not await can_login(rig, "x@localhost", "a"), "no x@localhost")
    reply, cond, _ = await execute(admin, "announce", submit_form(ADMIN, {
        "subject": "no body"}))
    check(bad_payload(reply, cond), "announce without announcement: %s"
          % reply)
    reply, cond, _ = await execute(admin, "get-online-users-list",
                                   submit_form(ADMIN, {"max_items": "7"}))
    check(bad_payload(reply, cond), "max_items not an option: %s" % reply)
    passed("a missing field, a wrong value, another host: bad-payload")

    # change-user-password ends the account's session.
    carol = await login(rig, "carol@localhost", "pw-carol")
    reply, cond, cmd = await run(admin, "change-user-password", {
        "accountjid": "carol@localhost", "password": "pw-carol2"})
    check(cond is None and completed(cmd), "change-user-password: %s" % reply)
    cond = await asyncio.wait_for(carol.stream_error, 5)
    check(cond == "not-authorized", "carol's session ends: %s" % cond)
    check(await can_login(rig, "carol@localhost", "pw-carol2") and
          not await can_login(rig, "carol@localhost", "pw-carol"),
          "the new password works, the old one no more")
    reply, cond, _ = await run(admin, "change-user-password", {
        "accountjid": "nobody@localhost", "password": "pw"})
    check(cond == "item-not-found", "no such account: %s" % reply)
    passed("change-user-password sets it and ends the account's sessions")

    # Online users: admin and bob (carol's session ended).
    await logout(carol)
    reply, cond, cmd = await execute(admin, "get-online-users-num")
    check(completed(cmd) and field_values(cmd, "onlineusersnum") == ["2"],
          "two accounts online: %s" % reply)
    reply, cond, cmd = await run(admin, "get-online-users-list",
                                 {"max_items": "25"})
    check(completed(cmd) and sorted(field_values(cmd, "onlineuserjids")) ==
          ["admin@localhost", "bob@localhost"], "who: %s" % reply)
    passed("get-online-users-num and -list")

    # announce: a headline with a subject to every session of the host.
    reply, cond, cmd = await run(admin, "announce", {
        "subject": "Maintenance", "announcement": ["Line one", "line two"]})
    check(completed(cmd), "announce completes: %s" % reply)
    m = await next_message(bob)
    check(m["type"] == "headline" and str(m["from"]) == "localhost" and
          m["subject"] == "Maintenance" and
          m["body"] == "Line one\nline two", "bob gets it: %s" % m)
    passed("announce sends a headline to the host's sessions")

    # delete-user ends the account's session.
    new = await login(rig, "new@localhost", "pw-new1")
    reply, cond, cmd = await run(admin, "delete-user", {
        "accountjids": ["new@localhost", "ghost@localhost"]})
    check(completed(cmd) and "ghost@localhost: no such account" in
          str(reply) and "1 account(s) deleted" in str(reply),
          "delete-user: %s" % reply)
    cond = await asyncio.wait_for(new.stream_error, 5)
    check(cond == "not-authorized", "new's session ends: %s" % cond)
    check(not await can_login(rig, "new@localhost", "pw-new1"),
          "the account is gone")
    check(rig.ctl("listusers").stdout.split() ==
          ["admin@localhost", "bob@localhost", "carol@localhost"],
          "xmppdctl sees the same accounts")
    passed("delete-user deletes and ends the account's sessions")

    # shutdown: the announcement now, the exit after the delay.
    reply, cond, cmd = await run(admin, "shutdown", {
        "delay": "5", "announcement": "Going down"})
    asked = time.monotonic()
    check(completed(cmd), "shutdown completes: %s" % reply)
    m = await next_message(bob)
    check(m["body"] == "Going down", "bob is told: %s" % m)
    await asyncio.sleep(1)
    check(rig.xmppd.p.poll() is None, "still running before the delay")
    cond = await asyncio.wait_for(bob.stream_error, 10)
    check(cond == "system-shutdown" and time.monotonic() - asked >= 4.5,
          "system-shutdown after the delay: %s" % cond)
    for _ in range(100):
        if rig.xmppd.p.poll() is not None:
            break
        await asyncio.sleep(0.1)
    check(rig.xmppd.p.returncode == 0, "xmppd exits 0: %s"
          % rig.xmppd.p.returncode)
    rig.xmppd.wait_log("XEP-0133 shutdown: shutting down")
    passed("shutdown announces, waits for the delay, and exits 0")
    await logout(admin, bob)


if __name__ == "__main__":
    main(test, admins="admin@localhost")
