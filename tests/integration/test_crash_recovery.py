"""SIGKILL during traffic loses nothing that was acknowledged: offline
messages, roster changes and archive entries survive a kill -9 of xmppd
and a restart.
A stanza counts as acknowledged once a later ping's answer has come back
(the router handles a connection's stanzas in order and commits to SQLite
before going on)."""
import asyncio
import signal
import xml.etree.ElementTree as ET

from xdtest import check, login, main, next_message


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.start_xmppd()
    a = await login(rig, "alice@localhost/a", "pencil")
    for n in range(50):
        a.send_message(mto="bob@localhost", mbody="m%d" % n, mtype="chat")
    iq = a.Iq(stype="set")
    iq.append(ET.fromstring("<query xmlns='jabber:iq:roster'><item "
                            "jid='bob@localhost' name='Bob'/></query>"))
    await iq.send(timeout=10)
    await a["xep_0199"].ping(jid="localhost", timeout=10)
    check(True, "50 messages and a roster item acknowledged")
    # More traffic in flight while the router dies.
    for n in range(50, 100):
        a.send_message(mto="bob@localhost", mbody="m%d" % n, mtype="chat")
    rig.xmppd.p.send_signal(signal.SIGKILL)
    rig.xmppd.p.wait(10)
    rig.xmppd.peer = True  # killed on purpose
    a.disconnect()

    rig.start_xmppd()
    b = await login(rig, "bob@localhost/b", "pencil")
    b.send_presence()
    bodies = []
    while True:
        try:
            m = await next_message(b, timeout=2)
        except Exception:
            break
        bodies.append(m["body"])
    check(bodies[:50] == ["m%d" % n for n in range(50)],
          "every acknowledged message survived (%d delivered)" % len(bodies))
    check(bodies == ["m%d" % n for n in range(len(bodies))],
          "in order, without gaps or duplicates")
    a = await login(rig, "alice@localhost/a", "pencil")
    iq = a.Iq(stype="get")
    iq.append(ET.fromstring("<query xmlns='jabber:iq:roster'/>"))
    res = await iq.send(timeout=10)
    item = res.xml.find("{jabber:iq:roster}query/{jabber:iq:roster}item")
    check(item is not None and item.get("jid") == "bob@localhost"
          and item.get("name") == "Bob", "the roster item survived")
    results = []
    from slixmpp.xmlstream.handler import Callback
    from slixmpp.xmlstream.matcher import MatchXPath
    a.register_handler(Callback("mam", MatchXPath(
        "{jabber:client}message/{urn:xmpp:mam:2}result"), results.append))
    q = a.Iq(stype="set")
    q.append(ET.fromstring("<query xmlns='urn:xmpp:mam:2'/>"))
    await q.send(timeout=10)
    await asyncio.sleep(0.3)
    archived = [r.xml.findtext(".//{jabber:client}body") for r in results]
    check(archived[:50] == ["m%d" % n for n in range(50)]
          and archived == ["m%d" % n for n in range(len(archived))],
          "every acknowledged message is in alice's archive (%d)"
          % len(archived))
    a.disconnect()
    b.disconnect()
    await asyncio.sleep(0.2)


main(test)
