"""xmppd-muc, XEP-0317 hats: the don/doff ad-hoc commands at a room's JID
(XEP-0050 through the framework's entity commands), who may run them, hats
in the occupants' presence, hats a client claims for itself stripped, and
a persistent room's hats after a restart of xmppd-muc."""
import asyncio

from xdtest import (Failure, MUC, MUC_DOMAIN, check, close_all,
                    form_fields, iq_xml, main, mc_wait_log_count, muc_codes,
                    muc_configure, muc_join, muc_login, stanza_error,
                    submit_form, mc_log_count)

PW = "pw"
CMDS = "http://jabber.org/protocol/commands"
DON = "urn:xmpp:hats:commands:don"
DOFF = "urn:xmpp:hats:commands:doff"
HATS = "urn:xmpp:hats:0"
FORM = "urn:xmpp:hats:commands"
ROOM = "hats@" + MUC_DOMAIN
TEACHER = "http://tech.example.edu/hats#Teacher"
SCRIBE = "http://tech.example.edu/hats#Scribe"


def hats_of(p):
    h = p.xml.find("{%s}hats" % HATS)
    return [] if h is None else [(x.get("uri"), x.get("title"))
                                 for x in h.findall("{%s}hat" % HATS)]


async def command(c, node, form=None, sessionid=None, to=ROOM):
    """Runs one stage of a command at the room: (<command/>, condition)."""
    sid = " sessionid='%s'" % sessionid if sessionid else ""
    reply, cond, _ = await iq_xml(
        c, "set", to, "<command xmlns='%s' node='%s'%s action='execute'>%s"
        "</command>" % (CMDS, node, sid, form or ""))
    return (None if cond else reply.xml.find("{%s}command" % CMDS)), cond


async def features(c, to):
    reply, cond, ex = await iq_xml(
        c, "get", to, "<query xmlns='http://jabber.org/protocol/disco#info'/>")
    if cond:
        raise Failure("disco#info of %s: %s" % (to, ex))
    return {f.get("var") for f in reply.xml.iter(
        "{http://jabber.org/protocol/disco#info}feature")}


async def command_nodes(c):
    reply, cond, ex = await iq_xml(
        c, "get", ROOM, "<query xmlns='http://jabber.org/protocol/disco#items'"
        " node='%s'/>" % CMDS)
    if cond:
        raise Failure("the room's command list: %s" % ex)
    return {(i.get("jid"), i.get("node")) for i in reply.xml.iter(
        "{http://jabber.org/protocol/disco#items}item")}


async def presence_of(c, nick, pred, what):
    return await c.pres.get(lambda p: str(p["from"]) == "%s/%s" % (ROOM, nick)
                            and p["type"] != "unavailable" and pred(p), what)


async def test(rig):
    for u in ("alice", "bob", "carol"):
        rig.adduser(u + "@localhost", PW)
    rig.start_xmppd()
    muc = rig.start_muc()
    a, b, c = await asyncio.gather(*[muc_login(rig, u + "@localhost/t", PW)
                                     for u in ("alice", "bob", "carol")])
    for x in (a, b, c):
        x.send_presence()

    p = await muc_join(a, ROOM + "/alice")
    check("201" in muc_codes(p), "alice creates the room")
    await muc_configure(a, ROOM, {"muc#roomconfig_persistentroom": "1"})
    for x, nick in ((b, "bob"), (c, "carol")):
        p = await muc_join(x, "%s/%s" % (ROOM, nick))
        check(not stanza_error(p), "%s enters" % nick)

    check(HATS in await features(c, MUC_DOMAIN),
          "the service advertises urn:xmpp:hats:0 (XEP-0317 2)")
    f = await features(c, ROOM)
    check(HATS in f and CMDS in f, "the room advertises hats and commands")
    check(await command_nodes(c) == set(), "a participant finds no hat "
          "commands at the room (XEP-0050 2.2: only what it may run)")
    check(await command_nodes(a) == {(ROOM, DON), (ROOM, DOFF)},
          "the owner finds don and doff at the room's JID")

    _, cond = await command(c, DON)
    check(cond == "forbidden", "a participant running don: forbidden (%s)"
          % cond)

    # Two stages: the form, then the submission.
    cmd, cond = await command(a, DON)
    check(cond is None and cmd.get("status") == "executing",
          "don without a form: the form, status executing")
    fields = form_fields(cmd.find("{jabber:x:data}x"))
    check({"FORM_TYPE", "accountjid", "hat", "title"} <= set(fields) and
          fields["FORM_TYPE"][1] == [FORM],
          "the form asks for accountjid, hat and title under %s (%s)"
          % (FORM, sorted(fields)))
    c.pres.clear()
    cmd, cond = await command(
        a, DON, submit_form(FORM, {"accountjid": "bob@localhost",
                                   "hat": TEACHER, "title": "Teacher"}),
        sessionid=cmd.get("sessionid"))
    check(cond is None and cmd.get("status") == "completed",
          "the owner gives bob the Teacher hat: completed")
    p = await presence_of(c, "bob", lambda p: hats_of(p),
                          "bob's presence with a hat")
    check(hats_of(p) == [(TEACHER, "Teacher")],
          "everyone sees bob's hat in his presence (XEP-0317 3.1) %s"
          % hats_of(p))

    # One stage: the form with the first request.
    c.pres.clear()
    cmd, cond = await command(
        a, DON, submit_form(FORM, {"accountjid": "bob@localhost/any",
                                   "hat": SCRIBE, "title": "Scribe"}))
    check(cond is None and cmd.get("status") == "completed",
          "a second hat, submitted at once (to bob's bare JID)")
    p = await presence_of(c, "bob", lambda p: len(hats_of(p)) == 2,
                          "bob's presence with two hats")
    check(hats_of(p) == [(TEACHER, "Teacher"), (SCRIBE, "Scribe")],
          "bob wears both, in the order given %s" % hats_of(p))

    _, cond = await command(a, DON, submit_form(FORM, {"hat": SCRIBE,
                                                       "title": "x"}))
    check(cond == "bad-request", "don without accountjid: bad-request (%s)"
          % cond)

    # A client cannot dress itself.
    c.pres.clear()
    b.send_raw("<presence to='%s/bob'><show>away</show><hats xmlns='%s'>"
               "<hat uri='urn:fake' title='Owner of everything'/></hats>"
               "</presence>" % (ROOM, HATS))
    p = await presence_of(c, "bob", lambda p: p["show"] == "away",
                          "bob's presence update")
    check(hats_of(p) == [(TEACHER, "Teacher"), (SCRIBE, "Scribe")],
          "hats bob claims for himself are dropped, the room's stay %s"
          % hats_of(p))

    c.pres.clear()
    cmd, cond = await command(a, DOFF, submit_form(
        FORM, {"accountjid": "bob@localhost", "hat": TEACHER}))
    check(cond is None and cmd.get("status") == "completed",
          "doff: the owner takes the Teacher hat off bob")
    p = await presence_of(c, "bob", lambda p: len(hats_of(p)) == 1,
                          "bob's presence with one hat")
    check(hats_of(p) == [(SCRIBE, "Scribe")], "bob keeps the Scribe hat %s"
          % hats_of(p))
    cmd, cond = await command(a, DOFF, submit_form(
        FORM, {"accountjid": "bob@localhost", "hat": TEACHER}))
    note = cmd.find("{%s}note" % CMDS) if cmd is not None else None
    check(cond is None and note is not None and note.get("type") == "error",
          "doff of a hat bob does not wear: completed with an error note")

    # The room is persistent: its hats survive a restart of xmppd-muc.
    n = mc_log_count(rig.xmppd, "component %s connected" % MUC_DOMAIN)
    check(muc.stop() == 0, "xmppd-muc stops cleanly")
    rig.start("xmppd-muc", [MUC, "-c", rig.config])
    mc_wait_log_count(rig.xmppd, "component %s connected" % MUC_DOMAIN, n + 1)
    b.pres.clear()
    p = await muc_join(b, ROOM + "/bob")
    check(not stanza_error(p) and hats_of(p) == [(SCRIBE, "Scribe")],
          "after a restart bob rejoins wearing the Scribe hat %s"
          % hats_of(p))
    await close_all(a, b, c)


if __name__ == "__main__":
    main(test)
