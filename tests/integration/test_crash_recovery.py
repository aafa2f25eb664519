"""SIGKILL during traffic loses nothing that was acknowledged: offline
messages, roster changes and archive entries survive a kill -9 of xmppd
and a restart.
A stanza counts as acknowledged once a later ping's answer has come back,
or once XEP-0198 acknowledged it: the router handles a connection's
stanzas in order and commits what they changed before its answers can
reach the socket."""
import asyncio
import signal
import xml.etree.ElementTree as ET

from xdtest import RawClient, check, passed, login, main, next_message


def sm_traffic(rig):
    """carol sends 30 messages to bob under stream management, has them
    acknowledged with <a h='30'/>, then 30 more that nobody acknowledges."""
    c = RawClient(rig)
    c.login("carol", "pencil")
    c.bind("sm")
    c.send("<enable xmlns='urn:xmpp:sm:3'/>")
    c.expect("<enabled")
    msgs = "".join("<message to='bob@localhost' type='chat'><body>s%d</body>"
                   "</message>" % n for n in range(30))
    c.send(msgs + "<r xmlns='urn:xmpp:sm:3'/>")
    c.expect("h='30'")
    c.send("".join("<message to='bob@localhost' type='chat'><body>s%d"
                   "</body></message>" % n for n in range(30, 60)))
    return c


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.adduser("carol@localhost", "pencil")
    rig.start_xmppd()
    c = await asyncio.get_event_loop().run_in_executor(None, sm_traffic, rig)
    a = await login(rig, "alice@localhost/a", "pencil")
    for n in range(50):
        a.send_message(mto="bob@localhost", mbody="m%d" % n, mtype="chat")
    iq = a.Iq(stype="set")
    iq.append(ET.fromstring("<query xmlns='jabber:iq:roster'><item "
                            "jid='bob@localhost' name='Bob'/></query>"))
    await iq.send(timeout=10)
    await a["xep_0199"].ping(jid="localhost", timeout=10)
    passed("50 messages and a roster item acknowledged")
    # More traffic in flight while the router dies.
    for n in range(50, 100):
        a.send_message(mto="bob@localhost", mbody="m%d" % n, mtype="chat")
    rig.xmppd.p.send_signal(signal.SIGKILL)
    rig.xmppd.p.wait(10)
    rig.xmppd.peer = True  # killed on purpose
    a.disconnect()
    c.drop()

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
    from_alice = [x for x in bodies if x.startswith("m")]
    from_carol = [x for x in bodies if x.startswith("s")]
    check(from_alice[:50] == ["m%d" % n for n in range(50)],
          "every acknowledged message survived (%d delivered)"
          % len(from_alice))
    check(from_alice == ["m%d" % n for n in range(len(from_alice))],
          "in order, without gaps or duplicates")
    check(from_carol[:30] == ["s%d" % n for n in range(30)] and
          from_carol == ["s%d" % n for n in range(len(from_carol))],
          "every message acknowledged by XEP-0198 survived, in order (%d)"
          % len(from_carol))
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
