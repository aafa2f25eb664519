"""xmppd-muc as real client libraries see it (issue 13): the creator of a
room gets the subject at its join although the room is locked (XEP-0045
7.2.15: every new occupant gets it, empty if none); the room's disco#info
advertises muc#request (voice requests work); XEP-0425's earlier wire form
(<apply-to xmlns=fasten:0><moderate xmlns=message-moderate:0>), which
slixmpp 1.8 sends, retracts too and is announced in that form as well; only
moderators may change the subject by default, a room may let participants
(muc#roomconfig_changesubject) and the service key
default_change_subject sets the default of new rooms."""
import asyncio

from slixmpp import JID

from xdtest import MUC_DOMAIN, MUC_OWNER, XDATA, check, main, mc_configure, \
    mc_create, mc_error, mc_fields, mc_from, mc_join, mc_login, mc_next, \
    send_iq

MUC_REQUEST = "http://jabber.org/protocol/muc#request"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
MODERATE0 = "urn:xmpp:message-moderate:0"
FASTEN = "urn:xmpp:fasten:0"
SID = "urn:xmpp:sid:0"


def is_subject(room):
    return lambda m: mc_from(m).split("/")[0] == room and \
        m.xml.find("{jabber:client}subject") is not None


def stanza_id(m, room):
    for s in m.xml.findall("{%s}stanza-id" % SID):
        if s.get("by") == room:
            return s.get("id")
    return None


async def form_default(c, room, var):
    res, err = await send_iq(c, "get", "<query xmlns='%s'/>" % MUC_OWNER,
                             to=room)
    check(err is None, "the owner gets %s's form (%s)" % (room, err))
    return mc_fields(res.xml.find("{%s}query/{%s}x" % (MUC_OWNER, XDATA))
                     ).get(var)


async def set_subject(c, room, text):
    """Sends a subject; returns the error condition or None when the room
    relays it back."""
    c.send_raw("<message to='%s' type='groupchat'><subject>%s</subject>"
               "</message>" % (room, text))
    m = await mc_next(c.messages, lambda m: mc_from(m).split("/")[0] == room
                      and (m["type"] == "error" or
                           m.xml.findtext("{jabber:client}subject") == text),
                      "the subject change's answer")
    return mc_error(m)[0] if m["type"] == "error" else None


async def test(rig):
    for u in ("alice", "bob"):
        rig.adduser(u + "@localhost", "pencil")
    rig.start_xmppd()
    muc = rig.start_muc()
    a = await mc_login(rig, "alice@localhost/x", "pencil")
    b = await mc_login(rig, "bob@localhost/x", "pencil")

    # The creator of a (locked) room gets the subject with its join.
    room = "fresh@" + MUC_DOMAIN
    _, me = await mc_join(a, room, "Alice")
    check(me["type"] != "error" and 201 in
          {int(s.get("code")) for s in me.xml.iter(
              "{http://jabber.org/protocol/muc#user}status")},
          "alice creates %s (201)" % room)
    m = await mc_next(a.messages, is_subject(room),
                      "the subject at the creator's join", timeout=3)
    check(m.xml.findtext("{jabber:client}subject") == "" and
          m["type"] == "groupchat" and mc_from(m) == room,
          "the creator of a locked room gets an empty subject from the "
          "room's JID (XEP-0045 7.2.15)")
    _, err = await mc_configure(a, room, None)
    check(err is None, "alice unlocks the room (%s)" % err)

    info, _ = await send_iq(b, "get", "<query xmlns='%s'/>" % DISCO_INFO,
                            to=room)
    feats = {f.get("var") for f in info.xml.iter("{%s}feature" % DISCO_INFO)}
    check(MUC_REQUEST in feats,
          "the room's disco#info advertises muc#request %s" % sorted(feats))

    # The subject: moderators only by default; the form says so.
    check(await form_default(a, room, "muc#roomconfig_changesubject")
          in (["0"], ["false"]),
          "muc#roomconfig_changesubject is off by default")
    _, me = await mc_join(b, room, "Bob")
    check(me["type"] != "error", "bob enters")
    await mc_next(b.messages, is_subject(room), "bob's subject")
    err = await set_subject(b, room, "bob's topic")
    check(err == "forbidden", "a participant may not change the subject by "
          "default (%s)" % err)
    err = await set_subject(a, room, "alice's topic")
    check(err is None, "the owner (moderator) may (%s)" % err)
    _, err = await mc_configure(a, room,
                                {"muc#roomconfig_changesubject": "1"})
    check(err is None, "alice lets participants change it (%s)" % err)
    err = await set_subject(b, room, "bob's topic")
    check(err is None, "with muc#roomconfig_changesubject on, a participant "
          "may (%s)" % err)

    # XEP-0425 0.2 as slixmpp 1.8 sends it: <apply-to><moderate:0>.
    b.send_raw("<message to='%s' type='groupchat'><body>spam</body>"
               "</message>" % room)
    spam = await mc_next(a.messages, lambda m: m["body"] == "spam",
                         "bob's message")
    sid = stanza_id(spam, room)
    check(sid is not None, "the message has the room's stanza-id")
    for p in ("xep_0421", "xep_0422", "xep_0424", "xep_0425"):
        a.register_plugin(p)
    try:
        await a.plugin["xep_0425"].moderate(JID(room), sid, "no ads",
                                            timeout=10)
        err = None
    except Exception as e:  # IqError: the server refused
        err = getattr(e, "iq", None)
        err = err["error"]["condition"] if err is not None else repr(e)
    check(err is None, "slixmpp's XEP-0425 (moderate:0 in apply-to) "
          "retracts (%s)" % err)
    m = await mc_next(b.messages, lambda m: m.xml.find(
        "{%s}apply-to/{%s}moderated" % (FASTEN, MODERATE0)) is not None,
        "the retraction in the earlier form")
    at = m.xml.find("{%s}apply-to" % FASTEN)
    mod = at.find("{%s}moderated" % MODERATE0)
    check(at.get("id") == sid and mod.get("by") == room + "/Alice" and
          mod.findtext("{%s}reason" % MODERATE0) == "no ads" and
          mod.find("{urn:xmpp:message-retract:0}retract") is not None,
          "occupants are told in the earlier form too: <apply-to id=sid>"
          "<moderated by=room/Alice><retract/><reason/>")
    check(m.xml.find("{urn:xmpp:message-retract:1}retract") is not None,
          "and in the current form, in the same message")

    # The service key sets the default of new rooms.
    muc.stop()
    rig.start_muc(default_change_subject="true")
    await asyncio.sleep(0.3)
    room2 = "open@" + MUC_DOMAIN
    await mc_create(a, room2, "Alice")
    check(await form_default(a, room2, "muc#roomconfig_changesubject")
          in (["1"], ["true"]),
          "default_change_subject = true: new rooms let participants "
          "change the subject")
    for cl in (a, b):
        cl.disconnect()
    await asyncio.sleep(0.3)


main(test)
