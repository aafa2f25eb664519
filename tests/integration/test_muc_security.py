"""xmppd-muc against the findings of the security review (issue 11): banning
the last occupant of a temporary room from outside (the room ended under
its caller's feet), one large presence fanned out to many sessions (the
service's own output ended its link to the router), nickname registration
granting membership of a members-only room (XEP-0045 7.10 needs an admin's
approval), the archive of a public password-protected room, and mediated
invitations (7.8.2: an outcast promoted, no limits, declines relayed from
anyone to anyone)."""
import asyncio

from xdtest import MUC_DOMAIN, MUC_USER, XDATA, check, main, mc_affiliate, \
    mc_collect, mc_codes, mc_create, mc_drain, mc_error, mc_from, mc_join, \
    mc_leave, mc_log_count, mc_login, mc_next, passed, send_iq

REGISTER = "jabber:iq:register"
MUC_REGISTER = "http://jabber.org/protocol/muc#register"
RC = "muc#roomconfig_"
MAM = "urn:xmpp:mam:2"


def room(name):
    return "%s@%s" % (name, MUC_DOMAIN)


def invites(m):
    x = m.xml.find("{%s}x" % MUC_USER)
    return [] if x is None else x.findall("{%s}invite" % MUC_USER)


def declines(m):
    x = m.xml.find("{%s}x" % MUC_USER)
    return [] if x is None else x.findall("{%s}decline" % MUC_USER)


def invite_msg(rjid, to_list, mid):
    return "<message to='%s' id='%s'><x xmlns='%s'>%s</x></message>" % (
        rjid, mid, MUC_USER,
        "".join("<invite to='%s'/>" % t for t in to_list))


async def reply_to(c, mid, what):
    return await mc_next(c.messages, lambda m: m["id"] == mid, what)


async def still_serving(rig, muc, a, what):
    """The service answers (a disco#info of the domain) and kept its link."""
    _, err = await send_iq(a, "get", "<query xmlns='http://jabber.org/"
                           "protocol/disco#info'/>", to=MUC_DOMAIN)
    check(err is None and muc.p.poll() is None and
          mc_log_count(rig.xmppd, "component %s connected" % MUC_DOMAIN) == 1,
          what)


async def ban_last_occupant(rig, muc, a, b):
    """Finding 5: the owner, outside the temporary room, bans its last
    occupant; the room ends and the service goes on."""
    rjid = room("temp")
    await mc_create(a, rjid, "Alice")
    await mc_join(b, rjid, "Bob")
    await mc_leave(a, rjid, "Alice")
    mc_drain(a, b)
    _, err = await mc_affiliate(a, rjid, "bob@localhost", "outcast")
    check(err is None, "the owner outside the room bans its last occupant")
    p = await mc_next(b.presences, lambda p: mc_from(p) == rjid + "/Bob" and
                      p["type"] == "unavailable", "bob's ban presence")
    check(301 in mc_codes(p), "bob leaves banned (301)")
    await still_serving(rig, muc, a, "xmppd-muc survives the temporary room "
                        "ending inside the ban")
    _, me = await mc_join(a, rjid, "Alice")
    check(201 in mc_codes(me), "the room ended: entering creates it again")
    await mc_leave(a, rjid, "Alice")


async def big_presence(rig, muc, a, bobs):
    """Finding 6: a presence of ~200 KB in a room of 20 sessions."""
    rjid = room("big")
    await mc_create(a, rjid, "Alice")
    for i, b in enumerate(bobs):
        await mc_join(b, rjid, "Bob")
    mc_drain(a, *bobs)
    a.send_raw("<presence to='%s/Alice' id='huge'><status>%s</status>"
               "</presence>" % (rjid, "x" * 200000))
    p = await mc_next(a.presences, lambda p: p["id"] == "huge" or
                      (mc_from(p) == rjid + "/Alice" and
                       p["type"] == "unavailable"),
                      "the answer to alice's huge presence", timeout=20)
    check(p["type"] == "error" and mc_error(p)[0] == "not-acceptable",
          "a presence over max_presence_bytes is refused: not-acceptable "
          "(%s %s)" % (p["type"], mc_error(p)))
    a.send_raw("<message to='%s' type='groupchat' id='after'><body>still "
               "there</body></message>" % rjid)
    for b in (bobs[0], bobs[-1]):
        await mc_next(b.messages, lambda m: m["id"] == "after",
                      "alice's message after the huge presence")
    passed("every session still gets the room's messages")
    # A ~200 KB message (max_message_bytes is raised for it) to the same 20
    # sessions: 4 MB out for one stanza in, held while the router catches
    # up instead of ending the link.
    mc_drain(a, *bobs)
    a.send_raw("<message to='%s' type='groupchat' id='large'><body>%s</body>"
               "</message>" % (rjid, "y" * 200000))
    for b in bobs:
        await mc_next(b.messages, lambda m: m["id"] == "large",
                      "the large message at %s" % b.boundjid, timeout=20)
    passed("a 200 KB message reaches all 20 sessions")
    await still_serving(rig, muc, a, "the service kept its link to the router")
    check(mc_log_count(muc, "reads too slowly") == 0,
          "xmppd-muc never found its own output too slow")


async def registration(a, c):
    """Finding 7: registering in a members-only room asks its admins."""
    rjid = room("club")
    await mc_create(a, rjid, "Alice", {RC + "membersonly": "1",
                                       RC + "allowinvites": "1"})
    mc_drain(a, c)
    form = ("<query xmlns='%s'><x xmlns='%s' type='submit'><field var="
            "'FORM_TYPE'><value>%s</value></field><field var='muc#register_"
            "roomnick'><value>carl</value></field></x></query>"
            % (REGISTER, XDATA, MUC_REGISTER))
    await send_iq(c, "set", form, to=rjid)
    _, me = await mc_join(c, rjid, "carl")
    check(me["type"] == "error" and
          mc_error(me)[0] == "registration-required",
          "registering did not make carol a member (%s)" % (mc_error(me),))
    req = await mc_next(a.messages, lambda m: m.xml.find(
        "{%s}x" % XDATA) is not None, "the registration request at alice")
    x = req.xml.find("{%s}x" % XDATA)
    fields = {f.get("var"): f.findtext("{%s}value" % XDATA)
              for f in x.findall("{%s}field" % XDATA)}
    check(fields.get("FORM_TYPE") == MUC_REGISTER and
          fields.get("muc#register_roomnick") == "carl" and
          (fields.get("muc#jid") or "").startswith("carol@localhost"),
          "the room's admin is asked to approve (%s)" % fields)
    a.send_raw("<message to='%s'><x xmlns='%s' type='submit'><field var="
               "'FORM_TYPE'><value>%s</value></field><field var='muc#jid'>"
               "<value>carol@localhost</value></field><field var='muc#"
               "register_roomnick'><value>carl</value></field><field var="
               "'muc#register_allow'><value>true</value></field></x>"
               "</message>" % (rjid, XDATA, MUC_REGISTER))
    await asyncio.sleep(0.3)
    _, me = await mc_join(c, rjid, "carl")
    check(me["type"] != "error", "approved by the admin, carol enters")
    return rjid


async def archive(a, c):
    """Finding 9: a public password-protected room's archive."""
    rjid = room("locked")
    await mc_create(a, rjid, "Alice", {
        RC + "publicroom": "1", RC + "passwordprotectedroom": "1",
        RC + "roomsecret": "sesame", RC + "enablearchiving": "1"})
    a.send_raw("<message to='%s' type='groupchat' id='s1'><body>the secret"
               "</body></message>" % rjid)
    await mc_next(a.messages, lambda m: m["id"] == "s1", "alice's echo")
    _, err = await send_iq(c, "set", "<query xmlns='%s'/>" % MAM, to=rjid)
    check(err == "forbidden", "an outsider without the password may not "
          "read the archive (%s)" % err)


async def invitations(rig, a, b, c, d, e):
    """Finding 10: invitations to the members-only room `club`."""
    rjid = room("club")
    await mc_affiliate(a, rjid, "bob@localhost", "member")
    await mc_affiliate(a, rjid, "dave@localhost", "outcast")
    _, me = await mc_join(b, rjid, "Bob")
    check(me["type"] != "error", "bob, a member, enters the club")
    mc_drain(a, b, c, d, e)
    b.send_raw(invite_msg(rjid, ["dave@localhost"], "i1"))
    r = await reply_to(b, "i1", "the room's answer to inviting an outcast")
    check(r["type"] == "error" and mc_error(r)[0] == "forbidden",
          "a member may not invite an outcast (%s)" % (mc_error(r),))
    _, me = await mc_join(d, rjid, "Dave")
    check(me["type"] == "error" and mc_error(me)[0] == "forbidden",
          "dave is still banned (%s)" % (mc_error(me),))

    b.send_raw(invite_msg(rjid, ["erin@localhost"] * 2000, "i2"))
    r = await reply_to(b, "i2", "the answer to 2,000 invitations")
    check(r["type"] == "error", "2,000 invitations in one message are "
          "refused (%s)" % (mc_error(r),))
    b.send_raw(invite_msg(rjid, ["erin@localhost"] * 4, "i3"))
    r = await reply_to(b, "i3", "the answer to 4 invitations")
    check(r["type"] == "error", "more than max_invites (3) in one "
          "message are refused (%s)" % (mc_error(r),))
    got = await mc_collect(e.messages, 0.5)
    check(sum(len(invites(m)) for m in got) == 0,
          "erin got none of those invitations (%d)" % len(got))

    # occupant_burst = 5: three invitations, then three more at once.
    b.send_raw(invite_msg(rjid, ["erin@localhost"] * 3, "i4"))
    b.send_raw(invite_msg(rjid, ["erin@localhost"] * 3, "i5"))
    r = await reply_to(b, "i5", "the answer to the second three")
    check(r["type"] == "error" and mc_error(r)[0] == "policy-violation",
          "invitations count against the occupant's rate (%s)"
          % (mc_error(r),))
    got = await mc_collect(e.messages, 0.5)
    check(sum(len(invites(m)) for m in got) == 3,
          "erin got the first three (%d)" % sum(len(invites(m))
                                                 for m in got))

    # Declines: only to whoever invited the decliner.
    mc_drain(a, b)
    c.send_raw("<message to='%s' id='d1'><x xmlns='%s'><decline to='%s'>"
               "<reason>spam</reason></decline></x></message>"
               % (rjid, MUC_USER, a.boundjid.full))
    r = await reply_to(c, "d1", "the answer to a decline of no invitation")
    check(r["type"] == "error", "a decline without an invitation is refused "
          "(%s)" % (mc_error(r),))
    got = await mc_collect(a.messages, 0.5)
    check(not any(declines(m) for m in got), "and alice never sees it")
    e.send_raw("<message to='%s'><x xmlns='%s'><decline to='%s'><reason>"
               "no</reason></decline></x></message>"
               % (rjid, MUC_USER, b.boundjid.full))
    m = await mc_next(b.messages, lambda m: bool(declines(m)),
                      "erin's decline at bob, who invited her")
    check(declines(m)[0].get("from", "").startswith("erin@localhost"),
          "a decline reaches the inviter")


async def test(rig):
    for u in ("alice", "bob", "carol", "dave", "erin"):
        rig.adduser(u + "@localhost", "pw")
    rig.start_xmppd()
    muc = rig.start_muc(max_invites=3, occupant_burst=5,
                        max_message_bytes=250000)
    a = await mc_login(rig, "alice@localhost/a", "pw")
    b = await mc_login(rig, "bob@localhost/b", "pw")
    c = await mc_login(rig, "carol@localhost/c", "pw")
    d = await mc_login(rig, "dave@localhost/d", "pw")
    e = await mc_login(rig, "erin@localhost/e", "pw")

    await ban_last_occupant(rig, muc, a, b)
    await archive(a, c)
    await registration(a, c)
    await invitations(rig, a, b, c, d, e)
    bobs = [b] + list(await asyncio.gather(*[
        mc_login(rig, "bob@localhost/r%d" % i, "pw") for i in range(19)]))
    await big_presence(rig, muc, a, bobs)

    for cl in [a, c, d, e] + bobs:
        cl.disconnect()
    await asyncio.sleep(0.3)


main(test, max_sessions_per_account=40)
