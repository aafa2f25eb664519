"""xmppd-muc, XEP-0425 moderated message retraction: only a moderator may
retract, an unknown stanza-id is item-not-found, every occupant is told
(from the room's own JID, with the moderator and the reason), the archive
keeps a tombstone (who, not what) and the retraction itself, and the
message is gone from the history a new occupant gets."""
import asyncio
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xdtest import MUC_DOMAIN, check, main, mc_create, mc_from, mc_join, \
    mc_login, mc_next, send_iq

ROOM = "mod@" + MUC_DOMAIN
MODERATE = "urn:xmpp:message-moderate:1"
RETRACT = "urn:xmpp:message-retract:1"
SID = "urn:xmpp:sid:0"
MAM = "urn:xmpp:mam:2"


def gc(c, body):
    c.send_raw("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (ROOM, body))


def stanza_id(m):
    for s in m.xml.findall("{%s}stanza-id" % SID):
        if s.get("by") == ROOM:
            return s.get("id")
    return None


def moderate(c, sid, reason="spam"):
    return send_iq(c, "set", "<moderate xmlns='%s' id='%s'><retract xmlns="
                   "'%s'/><reason>%s</reason></moderate>"
                   % (MODERATE, sid, RETRACT, reason), to=ROOM)


async def archive(c):
    """The room's archive as c gets it: [forwarded <message/> elements]."""
    got = []
    c.register_handler(Callback("mod mam", MatchXPath(
        "{jabber:client}message/{%s}result" % MAM), got.append))
    iq = c.Iq(stype="set", sto=ROOM)
    iq.append(ET.fromstring("<query xmlns='%s'/>" % MAM))
    await iq.send(timeout=10)
    await asyncio.sleep(0.2)
    c.remove_handler("mod mam")
    return [r.xml.find("{%s}result/{urn:xmpp:forward:0}forwarded/"
                       "{jabber:client}message" % MAM) for r in got]


async def test(rig):
    for u in ("alice", "bob", "carol", "dave"):
        rig.adduser(u + "@localhost", "pencil")
    rig.start_xmppd()
    rig.start_muc()
    a, b, c, d = [await mc_login(rig, "%s@localhost/x" % u, "pencil")
                  for u in ("alice", "bob", "carol", "dave")]

    await mc_create(a, ROOM, "Alice")
    for cl, nick in ((b, "Bob"), (c, "Carol")):
        _, me = await mc_join(cl, ROOM, nick)
        check(me["type"] != "error", "%s enters" % nick)
    info, _ = await send_iq(c, "get", "<query xmlns='http://jabber.org/"
                            "protocol/disco#info'/>", to=ROOM)
    check(any(f.get("var") == MODERATE for f in info.xml.iter(
        "{http://jabber.org/protocol/disco#info}feature")),
        "the room advertises %s (XEP-0425 2)" % MODERATE)

    gc(b, "buy potions")
    spam = await mc_next(a.messages, lambda m: m["body"] == "buy potions",
                         "bob's message")
    sid = stanza_id(spam)
    check(sid is not None, "the message carries the room's stanza-id")
    gc(b, "sorry")
    await mc_next(a.messages, lambda m: m["body"] == "sorry", "bob's second")

    _, err = await moderate(c, sid)
    check(err == "forbidden", "a participant (carol) retracting: forbidden "
          "(%s)" % err)
    _, err = await moderate(a, "12345")
    check(err == "item-not-found", "an unknown stanza-id: item-not-found "
          "(%s)" % err)

    _, err = await moderate(a, sid, "no ads")
    check(err is None, "the moderator (alice) retracts bob's message")
    for cl, who in ((a, "alice"), (b, "bob"), (c, "carol")):
        m = await mc_next(cl.messages, lambda m: m.xml.find(
            "{%s}retract" % RETRACT) is not None, "%s: the retraction" % who)
        r = m.xml.find("{%s}retract" % RETRACT)
        mod = r.find("{%s}moderated" % MODERATE)
        check(mc_from(m) == ROOM and m["type"] == "groupchat" and
              r.get("id") == sid and mod is not None and
              mod.get("by") == ROOM + "/Alice" and
              r.findtext("{%s}reason" % RETRACT) == "no ads" and
              mod.find("{urn:xmpp:occupant-id:0}occupant-id") is not None,
              "%s is told, from the room's JID: <retract id=%s> with "
              "<moderated by=room/Alice> and the reason (XEP-0425 3.1)"
              % (who, sid))

    msgs = await archive(c)
    bodies = [m.findtext("{jabber:client}body") for m in msgs]
    tomb = [m for m in msgs if m.find("{%s}retracted" % RETRACT) is not None]
    check("buy potions" not in bodies and "sorry" in bodies,
          "the archive no longer has the retracted text %s" % bodies)
    check(len(tomb) == 1 and tomb[0].get("from") == ROOM + "/Bob" and
          tomb[0].find("{%s}retracted/{%s}moderated" % (RETRACT, MODERATE))
          is not None and tomb[0].find(
              "{urn:xmpp:occupant-id:0}occupant-id") is not None,
          "in its place a tombstone: from bob's occupant JID, with his "
          "occupant id and <retracted><moderated/></retracted> (XEP-0425 5)")
    check(any(m.find("{%s}retract" % RETRACT) is not None and
              m.find("{%s}retract" % RETRACT).get("id") == sid
              for m in msgs),
          "the retraction is archived too, for clients catching up")

    await mc_join(d, ROOM, "Dave")
    hist = []
    while True:
        m = await mc_next(d.messages, lambda m: mc_from(m).startswith(ROOM),
                          "dave's history and subject")
        hist.append(m["body"])
        if m.xml.find("{jabber:client}subject") is not None:
            break
    check("buy potions" not in hist and "sorry" in hist,
          "a new occupant's history leaves the retracted message out %s"
          % hist)
    for cl in (a, b, c, d):
        cl.disconnect()
    await asyncio.sleep(0.3)


main(test)
