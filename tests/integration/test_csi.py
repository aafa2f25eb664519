"""XEP-0352 client state indication: while a client is inactive, presence
for it is held and folded (the latest per sender); a message, or the
client becoming active, sends what was held first."""
import asyncio
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xdtest import check, login, logout, main, next_message


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.start_xmppd()
    a = await login(rig, "alice@localhost/a", "pencil")
    b = await login(rig, "bob@localhost/b", "pencil")
    arrivals = []
    b.register_handler(Callback("order", MatchXPath("{jabber:client}presence"),
                                lambda p: arrivals.append(("presence",
                                                           p["status"]))))
    b.register_handler(Callback("order m", MatchXPath(
        "{jabber:client}message"), lambda m: arrivals.append(
            ("message", m["body"]))))
    b.send_presence()
    await asyncio.sleep(0.3)
    arrivals.clear()

    b.send_raw("<inactive xmlns='urn:xmpp:csi:0'/>")
    await asyncio.sleep(0.2)
    for n in range(5):  # directed presence, no subscription needed
        a.send_presence(pto="bob@localhost/b", pstatus="s%d" % n)
    await asyncio.sleep(0.7)
    check(arrivals == [], "nothing while inactive")
    a.send_message(mto="bob@localhost/b", mbody="wake", mtype="chat")
    await next_message(b)
    await asyncio.sleep(0.2)
    check(arrivals == [("presence", "s4"), ("message", "wake")],
          "a message flushes the latest presence first: %s" % arrivals)

    arrivals.clear()
    for n in range(3):
        a.send_presence(pto="bob@localhost/b", pstatus="t%d" % n)
    await asyncio.sleep(0.5)
    check(arrivals == [], "held again")
    b.send_raw("<active xmlns='urn:xmpp:csi:0'/>")
    await asyncio.sleep(0.5)
    check(arrivals == [("presence", "t2")],
          "becoming active delivers the folded presence: %s" % arrivals)
    a.send_presence(pto="bob@localhost/b", pstatus="live")
    await asyncio.sleep(0.5)
    check(arrivals[-1] == ("presence", "live"), "active: presence flows")
    await logout(a, b)


main(test)
