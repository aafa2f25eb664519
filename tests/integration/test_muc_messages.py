"""xmppd-muc, messages (XEP-0045 7.4 subject, 7.5 private messages, 7.8
invitations, 7.9 'Sending a Message to All Occupants', 7.2 'Discussion
History' and 'Room Subject', 8.6 voice requests; XEP-0249 direct
invitations; XEP-0313/0059 room archives; XEP-0421 occupant ids;
XEP-0203 delays) and the service's limits on size and rate."""
import asyncio
import datetime
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xdtest import MUC, MUC_DOMAIN, MUC_NS, MUC_USER, XDATA, check, mc_collect, \
    mc_drain, mc_log_count, main, mc_configure, mc_create, mc_join, \
    mc_leave, mc_login, mc_next, mc_occupant_id, mc_from, \
    mc_error, mc_wait_log_count, mc_fields, mc_request_voice

CHAT = "chat@" + MUC_DOMAIN
HIST = "hist@" + MUC_DOMAIN
MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"
DELAY = "urn:xmpp:delay"


def gc(c, room, body, mid=None, extra=""):
    c.send_raw("<message to='%s' type='groupchat'%s><body>%s</body>%s"
               "</message>" % (room, " id='%s'" % mid if mid else "", body,
                               extra))


def body_is(text):
    return lambda m: m["body"] == text


def is_error(m):
    return m["type"] == "error"


async def history_join(c, room, nick, history=None):
    """Joins; returns the messages from the room up to and including the
    subject message (which the XEP sends last)."""
    _, me = await mc_join(c, room, nick, history=history)
    if me["type"] == "error":
        raise Exception("join %s: %s" % (room, mc_error(me)))
    got = []
    while True:
        m = await mc_next(c.messages,
                              lambda m: mc_from(m).split("/")[0] == room,
                              "the subject message after joining " + room)
        got.append(m)
        if m.xml.find("{jabber:client}subject") is not None and \
                m.xml.find("{jabber:client}body") is None:
            return got


def delay_of(m):
    return m.xml.find("{%s}delay" % DELAY)


def bodies(msgs):
    return [m["body"] for m in msgs if m["body"]]


async def mam(c, room, rsm="", with_=None):
    """The room's archive as c sees it: ([(id, body, forwarded from, result
    from, [real JIDs in the forwarded message])], <fin/>, error)."""
    results = []
    c.register_handler(Callback("muc mam", MatchXPath(
        "{jabber:client}message/{%s}result" % MAM), results.append))
    iq = c.Iq(stype="set", sto=room)
    form = "" if with_ is None else (
        "<x xmlns='%s' type='submit'><field var='FORM_TYPE' type='hidden'>"
        "<value>%s</value></field><field var='with'><value>%s</value>"
        "</field></x>" % (XDATA, MAM, with_))
    iq.append(ET.fromstring("<query xmlns='%s' queryid='mq'>%s%s</query>"
                            % (MAM, form, rsm)))
    try:
        res, err = await iq.send(timeout=10), None
    except slixmpp.exceptions.IqError as e:
        res, err = e.iq, e.iq["error"]["condition"]
    await asyncio.sleep(0.2)
    c.remove_handler("muc mam")
    fwd = [r.xml.find("{%s}result/{urn:xmpp:forward:0}forwarded/"
                      "{jabber:client}message" % MAM) for r in results]
    out = [(r.xml.find("{%s}result" % MAM).get("id"),
            f.findtext("{jabber:client}body") if f is not None else None,
            f.get("from") if f is not None else None,
            mc_from(r),
            [i.get("jid") for i in f.findall("{%s}x/{%s}item"
                                             % (MUC_USER, MUC_USER))]
            if f is not None else None) for r, f in zip(results, fwd)]
    return out, res.xml.find("{%s}fin" % MAM), err


def rsm(max_=None, after=None, before=None):
    s = "<set xmlns='%s'>" % RSM
    if max_ is not None:
        s += "<max>%d</max>" % max_
    if after is not None:
        s += "<after>%s</after>" % after
    if before is not None:
        s += "<before>%s</before>" % before if before else "<before/>"
    return s + "</set>"


async def test(rig):
    for u in ("alice", "bob", "carol", "dave"):
        rig.adduser(u + "@localhost", "pencil")
    rig.start_xmppd()
    muc = rig.start_muc(max_message_bytes=4096)
    a = await mc_login(rig, "alice@localhost/a", "pencil")
    b = await mc_login(rig, "bob@localhost/b", "pencil")
    c = await mc_login(rig, "carol@localhost/c", "pencil")
    d = await mc_login(rig, "dave@localhost/d", "pencil")
    await asyncio.sleep(0.3)
    mc_drain(a, b, c, d)

    await mc_create(a, CHAT, "Alice",
                     {"muc#roomconfig_changesubject": "0"})
    got = await history_join(b, CHAT, "Bob")
    check(len(got) == 1 and (got[0]["subject"] or "") == "",
          "a room with no subject: bob gets an empty <subject/> after "
          "entering (7.2 'Room Subject')")
    await history_join(c, CHAT, "Carol")
    await asyncio.sleep(0.2)
    mc_drain(a, b, c)

    # -- groupchat to all occupants (7.4) --
    gc(b, CHAT, "hello all", mid="g1")
    seen = {}
    for cl, who in ((a, "alice"), (b, "bob"), (c, "carol")):
        m = await mc_next(cl.messages, body_is("hello all"),
                              "bob's groupchat at " + who)
        seen[who] = m
        check(mc_from(m) == CHAT + "/Bob" and m["type"] == "groupchat",
              "%s gets bob's message from chat/Bob, type groupchat" % who)
    check(seen["bob"]["id"] == "g1", "the sender's echo keeps its id g1 "
          "(7.4) got %r" % seen["bob"]["id"])
    oids = {mc_occupant_id(m) for m in seen.values()}
    check(len(oids) == 1 and None not in oids, "XEP-0421: the same "
          "occupant-id on every copy (%s)" % oids)
    sid = seen["alice"].xml.find("{urn:xmpp:sid:0}stanza-id")
    check(sid is not None and sid.get("by") == CHAT and sid.get("id"),
          "XEP-0359 stanza-id by=room on an archived groupchat message")
    gc(c, CHAT, "from carol", mid="g2")
    m = await mc_next(a.messages, body_is("from carol"), "carol's msg")
    check(mc_occupant_id(m) and mc_occupant_id(m) not in oids,
          "carol's occupant-id differs from bob's")

    # -- subject changes (8.1; changesubject 10.2) --
    mc_drain(a, b, c)
    b.send_raw("<message to='%s' type='groupchat' id='s1'><subject>by bob"
               "</subject></message>" % CHAT)
    m = await mc_next(b.messages, lambda m: m["id"] == "s1",
                          "reply to bob's subject change")
    check(is_error(m) and mc_error(m)[0] == "forbidden",
          "changesubject off: participant bob's subject change is refused"
          " with forbidden (8.1) got %s" % (mc_error(m),))
    a.send_raw("<message to='%s' type='groupchat'><subject>Topic A"
               "</subject></message>" % CHAT)
    for cl in (a, b, c):
        m = await mc_next(cl.messages, lambda m: m["subject"] ==
                              "Topic A", "subject Topic A")
    check(mc_from(m) == CHAT + "/Alice", "the moderator's subject reaches "
          "everyone from chat/Alice (8.1)")
    _, err = await mc_configure(a, CHAT,
                                 {"muc#roomconfig_changesubject": "1"})
    check(err is None, "alice allows participants to change the subject")
    mc_drain(a, b, c)
    b.send_raw("<message to='%s' type='groupchat' id='s2'><subject>Topic B"
               "</subject></message>" % CHAT)
    m = await mc_next(c.messages, lambda m: m["subject"] == "Topic B" or
                          m["id"] == "s2", "Topic B at carol")
    check(not is_error(m) and mc_from(m) == CHAT + "/Bob",
          "changesubject on: bob's subject reaches carol")

    # -- private messages (7.5) --
    mc_drain(a, b, c)
    b.send_raw("<message to='%s/Carol' type='chat' id='p1'><body>psst"
               "</body></message>" % CHAT)
    m = await mc_next(c.messages, body_is("psst"), "bob's PM")
    check(mc_from(m) == CHAT + "/Bob" and m["type"] == "chat",
          "a private message reaches carol from chat/Bob (7.5)")
    b.send_raw("<message to='%s/Carol' type='groupchat' id='p2'><body>gc pm"
               "</body></message>" % CHAT)
    m = await mc_next(b.messages, lambda m: m["id"] == "p2", "p2 reply")
    check(is_error(m) and mc_error(m)[0] == "bad-request",
          "a private message of type groupchat: bad-request (7.5) got %s"
          % (mc_error(m),))
    b.send_raw("<message to='%s/Nobody' type='chat' id='p3'><body>?"
               "</body></message>" % CHAT)
    m = await mc_next(b.messages, lambda m: m["id"] == "p3", "p3 reply")
    check(is_error(m) and mc_error(m)[0] == "item-not-found",
          "a private message to a nick not in the room: item-not-found "
          "(7.5) got %s" % (mc_error(m),))
    d.send_raw("<message to='%s/Carol' type='chat' id='p4'><body>outsider"
               "</body></message>" % CHAT)
    m = await mc_next(d.messages, lambda m: m["id"] == "p4", "p4 reply")
    check(is_error(m) and mc_error(m)[0] == "not-acceptable",
          "a private message from a non-occupant: not-acceptable (7.5) got"
          " %s" % (mc_error(m),))
    _, err = await mc_configure(a, CHAT,
                                 {"muc#roomconfig_allowpm": "moderators"})
    check(err is None, "alice sets allowpm = moderators (%s)" % err)
    mc_drain(a, b, c)
    b.send_raw("<message to='%s/Carol' type='chat' id='p5'><body>not now"
               "</body></message>" % CHAT)
    m = await mc_next(b.messages, lambda m: m["id"] == "p5", "p5 reply")
    check(is_error(m), "allowpm=moderators: participant bob's private "
          "message is refused with an error (%s; 7.5 names no condition"
          " for this)" % (mc_error(m),))
    a.send_raw("<message to='%s/Carol' type='chat' id='p6'><body>mod pm"
               "</body></message>" % CHAT)
    m = await mc_next(c.messages, lambda m: m["body"] in
                          ("mod pm", "not now"), "alice's PM")
    check(m["body"] == "mod pm", "allowpm=moderators: the moderator's "
          "private message is delivered, bob's was not")
    _, err = await mc_configure(a, CHAT, {"muc#roomconfig_allowpm": "none"})
    a.send_raw("<message to='%s/Carol' type='chat' id='p7'><body>none"
               "</body></message>" % CHAT)
    m = await mc_next(a.messages, lambda m: m["id"] == "p7", "p7 reply")
    check(err is None and is_error(m),
          "allowpm=none: even a moderator's private message is refused "
          "(%s)" % (mc_error(m),))

    # -- mediated invitation and decline (7.8) --
    mc_drain(a, b, c, d)
    b.send_raw("<message to='%s'><x xmlns='%s'><invite to='dave@localhost'>"
               "<reason>join us</reason></invite></x></message>"
               % (CHAT, MUC_USER))
    m = await mc_next(d.messages, lambda m: m.xml.find(
        "{%s}x/{%s}invite" % (MUC_USER, MUC_USER)) is not None,
        "the invitation at dave")
    inv = m.xml.find("{%s}x/{%s}invite" % (MUC_USER, MUC_USER))
    check(mc_from(m) == CHAT and ((inv.get("from") or "").startswith(
        "bob@localhost") or inv.get("from") == CHAT + "/Bob") and
          inv.findtext("{%s}reason" % MUC_USER) == "join us",
          "dave gets the invitation from the room, invite from = bob's "
          "bare, full or room JID (%s), with the reason (7.8 'Inviting "
          "Another User to a Room')" % inv.get("from"))
    d.send_raw("<message to='%s'><x xmlns='%s'><decline to='%s'><reason>"
               "busy</reason></decline></x></message>"
               % (CHAT, MUC_USER, inv.get("from")))
    m = await mc_next(b.messages, lambda m: m.xml.find(
        "{%s}x/{%s}decline" % (MUC_USER, MUC_USER)) is not None,
        "the decline at bob")
    dec = m.xml.find("{%s}x/{%s}decline" % (MUC_USER, MUC_USER))
    check(mc_from(m) == CHAT and (dec.get("from") or "").startswith(
        "dave@localhost") and dec.findtext("{%s}reason" % MUC_USER) ==
          "busy", "bob gets dave's decline from the room, from=dave (7.8)")

    # -- XEP-0249 direct invitation, through the router --
    a.send_raw("<message to='dave@localhost/d'><x xmlns='jabber:x:conference'"
               " jid='%s' reason='direct'/></message>" % CHAT)
    m = await mc_next(d.messages, lambda m: m.xml.find(
        "{jabber:x:conference}x") is not None, "direct invitation")
    x = m.xml.find("{jabber:x:conference}x")
    check(str(m["from"]).startswith("alice@localhost") and
          x.get("jid") == CHAT, "XEP-0249: dave gets alice's direct "
          "invitation to chat")

    # -- voice request in a moderated room (8.6) --
    mod = "mod@" + MUC_DOMAIN
    await mc_create(a, mod, "Alice", {"muc#roomconfig_moderatedroom": "1"})
    _, me = await mc_join(d, mod, "Dave")
    check(me["type"] != "error" and
          (me.xml.find("{%s}x/{%s}item" % (MUC_USER, MUC_USER)).get("role")
           == "visitor"), "dave enters the moderated room as a visitor")
    mc_drain(a, d)
    gc(d, mod, "can I speak", mid="v0")
    m = await mc_next(d.messages, lambda m: m["id"] == "v0" or
                          m["body"] == "can I speak", "visitor's message")
    check(is_error(m) and mc_error(m)[0] == "forbidden",
          "a visitor's groupchat in a moderated room: forbidden (7.4) got "
          "%s" % (mc_error(m),))
    mc_request_voice(d, mod)
    m = await mc_next(a.messages, lambda m: m.xml.find(
        "{%s}x" % XDATA) is not None, "the voice request at alice")
    form = m.xml.find("{%s}x" % XDATA)
    f = mc_fields(form)
    check(mc_from(m) == mod and form.get("type") == "form" and
          f.get("FORM_TYPE") == [MUC_NS + "#request"] and
          f.get("muc#role") == ["participant"] and
          f.get("muc#roomnick") == ["Dave"] and
          (f.get("muc#jid") or [""])[0].startswith("dave@localhost"),
          "the moderator gets the voice request as a muc#request form with"
          " muc#role, muc#jid and muc#roomnick (8.6): %s" % f)

    # -- a message from a non-occupant (7.4) --
    gc(d, CHAT, "outsider", mid="n1")
    m = await mc_next(d.messages, lambda m: m["id"] == "n1" or
                          m["body"] == "outsider", "reply to outsider")
    check(is_error(m) and mc_error(m)[0] == "not-acceptable",
          "groupchat from a non-occupant: not-acceptable (7.4) got %s"
          % (mc_error(m),))

    # -- too big (service limit, max_message_bytes = 4096) --
    gc(b, CHAT, "x" * 5000, mid="big")
    m = await mc_next(b.messages, lambda m: m["id"] == "big",
                          "reply to the big message")
    check(is_error(m) and mc_error(m) == ("not-acceptable", "modify"),
          "a message over max_message_bytes: not-acceptable, modify got %s"
          % (mc_error(m),))
    got = await mc_collect(c.messages, 0.3)
    check(not [m for m in got if (m["body"] or "").startswith("xxxx")],
          "and it is not broadcast")

    # -- history on join (7.2 'Discussion History') --
    await mc_create(a, HIST, "Alice")
    await asyncio.sleep(0.2)
    mc_drain(a)
    for n in range(3):
        gc(a, HIST, "h%d" % n)
        await mc_next(a.messages, body_is("h%d" % n), "echo h%d" % n)
    await asyncio.sleep(2.5)
    mid = datetime.datetime.utcnow() - datetime.timedelta(seconds=0.5)
    for n in range(3, 5):
        gc(a, HIST, "h%d" % n)
        await mc_next(a.messages, body_is("h%d" % n), "echo h%d" % n)
    all5 = ["h%d" % n for n in range(5)]

    got = await history_join(c, HIST, "Carol", {"seconds": "2"})
    check(bodies(got) == ["h3", "h4"], "seconds=2: the messages of the "
          "last 2 s %s" % bodies(got))
    await mc_leave(c, HIST, "Carol")
    got = await history_join(c, HIST, "Carol")
    check(bodies(got) == all5, "no <history/>: the whole (short) history "
          "%s" % bodies(got))
    hist = [m for m in got if m["body"]]
    check(all(delay_of(m) is not None and delay_of(m).get("from") == HIST
              and delay_of(m).get("stamp") for m in hist),
          "every history message has <delay from=room stamp=/> (XEP-0203,"
          " 7.2 'Discussion History')")
    check(all(mc_from(m) == HIST + "/Alice" for m in hist),
          "history messages come from the sender's room JID")
    await mc_leave(c, HIST, "Carol")
    got = await history_join(c, HIST, "Carol", {"maxstanzas": "2"})
    check(bodies(got) == ["h3", "h4"], "maxstanzas=2: the last two %s"
          % bodies(got))
    await mc_leave(c, HIST, "Carol")
    got = await history_join(c, HIST, "Carol", {"maxchars": "0"})
    check(bodies(got) == [], "maxchars=0: no history %s" % bodies(got))
    await mc_leave(c, HIST, "Carol")
    since = mid.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    got = await history_join(c, HIST, "Carol", {"since": since})
    check(bodies(got) == ["h3", "h4"], "since=%s: h3, h4 %s"
          % (since, bodies(got)))
    await mc_leave(c, HIST, "Carol")

    # -- XEP-0313 archive of the room, XEP-0059 paging --
    mc_drain(a)
    res, fin, err = await mam(a, HIST)
    check(err is None and [r[1] for r in res] == all5 and
          fin is not None and fin.get("complete") == "true",
          "MAM: the room's archive, h0..h4, complete (XEP-0313 4.2) %s %s"
          % ([r[1] for r in res], err))
    check(all(r[3] == HIST and r[2] == HIST + "/Alice" for r in res),
          "results come from the room, forwarding messages from hist/Alice")
    page, fin, _ = await mam(a, HIST, rsm(max_=2))
    check([r[1] for r in page] == ["h0", "h1"] and fin.get("complete") !=
          "true", "max=2: h0, h1, not complete")
    last = fin.findtext("{%s}set/{%s}last" % (RSM, RSM))
    check(last == page[-1][0], "<last/> is the id of h1")
    page, fin, _ = await mam(a, HIST, rsm(max_=2, after=last))
    check([r[1] for r in page] == ["h2", "h3"], "after=<h1>: h2, h3")
    last = fin.findtext("{%s}set/{%s}last" % (RSM, RSM))
    page, fin, _ = await mam(a, HIST, rsm(max_=2, after=last))
    check([r[1] for r in page] == ["h4"] and fin.get("complete") == "true",
          "the last page: h4, complete")
    page, fin, _ = await mam(a, HIST, rsm(max_=2, before=""))
    check([r[1] for r in page] == ["h3", "h4"],
          "an empty <before/>: the last page h3, h4 (XEP-0059 2.5)")

    # -- real JIDs in the archive: as presence shows them (moderators of a
    # semi-anonymous room), and never the ones a sender wrote itself --
    real = "realjid@" + MUC_DOMAIN
    await mc_create(a, real, "Alice")
    await history_join(c, real, "Carol")
    mc_drain(a, c)
    gc(c, real, "forged", extra="<x xmlns='%s'><item jid='alice@localhost'/>"
       "</x>" % MUC_USER)
    m = await mc_next(a.messages, body_is("forged"), "carol's message")
    check(m.xml.find("{%s}x" % MUC_USER) is None, "the room strips the "
          "muc#user <x/> carol put in her groupchat message (it claimed "
          "alice's real JID)")
    gc(a, real, "plain")
    await mc_next(c.messages, body_is("plain"), "alice's message")
    res, _, err = await mam(a, real)
    check(err is None and [(r[1], r[4]) for r in res] ==
          [("forged", ["carol@localhost"]), ("plain", ["alice@localhost"])],
          "a moderator's results name each sender's real bare JID, once "
          "(XEP-0313 with 7.2 'Semi-Anonymous Rooms') %s"
          % [(r[1], r[4]) for r in res])
    res, _, err = await mam(c, real)
    check(err is None and [(r[1], r[4]) for r in res] ==
          [("forged", []), ("plain", [])],
          "a participant's results in a semi-anonymous room name nobody %s"
          % [(r[1], r[4]) for r in res])
    res, _, err = await mam(a, real, with_="carol@localhost")
    check(err is None and [r[1] for r in res] == ["forged"],
          "a moderator may search by real JID: carol's message only %s"
          % [r[1] for r in res])
    res, _, err = await mam(c, real, with_="alice@localhost")
    check(err == "forbidden" and res == [], "a participant may not search "
          "a semi-anonymous room by real JID: forbidden (%s)" % err)
    await mc_leave(c, real, "Carol")

    # -- subject after history --
    a.send_raw("<message to='%s' type='groupchat'><subject>hist topic"
               "</subject></message>" % HIST)
    await asyncio.sleep(0.3)
    got = await history_join(c, HIST, "Carol")
    check(got[-1]["subject"] == "hist topic" and bodies(got) == all5,
          "the subject comes after the whole history (7.2 'Room Subject')"
          " %s" % [(m["body"], m["subject"]) for m in got])

    # -- the rate limit: a second service instance, occupant_rate = 2 --
    n = mc_log_count(rig.xmppd, "component %s connected" % MUC_DOMAIN)
    check(muc.stop() == 0, "xmppd-muc stops cleanly on SIGTERM")
    rig.muc_keys.update(occupant_rate=2, occupant_burst=2)
    rig.write_config()
    rig.start("xmppd-muc", [MUC, "-c", rig.config])
    mc_wait_log_count(rig.xmppd, "component %s connected" % MUC_DOMAIN, n + 1)
    rate = "rate@" + MUC_DOMAIN
    await mc_create(a, rate, "Alice")
    await history_join(b, rate, "Bob")
    mc_drain(a, b)
    for i in range(6):
        gc(b, rate, "r%d" % i, mid="r%d" % i)
    got = await mc_collect(b.messages, 1.0)
    errs = [m for m in got if is_error(m)]
    ok = [m["body"] for m in got if not is_error(m)]
    check(ok[:2] == ["r0", "r1"], "within the burst (2) messages go out %s"
          % ok)
    check(errs and all(mc_error(m) == ("policy-violation", "wait")
                       for m in errs),
          "over the rate: policy-violation, type wait %s"
          % [mc_error(m) for m in errs])
    check(len(errs) + len(ok) == 6, "every message is answered either way")
    await asyncio.sleep(1.1)
    gc(b, rate, "later", mid="later")
    m = await mc_next(b.messages, lambda m: m["id"] == "later",
                          "after waiting")
    check(not is_error(m), "after a second the occupant may send again")

    for cl in (a, b, c, d):
        cl.disconnect()
    await asyncio.sleep(0.3)


main(test)
