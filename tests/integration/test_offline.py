"""Offline messages (XEP-0160): stored while the account has no available
resource, delivered in order with an XEP-0203 delay at the next available
presence with a non-negative priority, not twice; the per-account limit
bounces with service-unavailable."""
import asyncio

from xdtest import check, login, logout, main, next_message


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.start_xmppd()
    a = await login(rig, "alice@localhost/a", "pencil")
    for n in range(3):
        a.send_message(mto="bob@localhost", mbody="offline %d" % n,
                       mtype="chat")
    a.send_message(mto="bob@localhost", mbody="one too many", mtype="chat")
    err = await next_message(a)
    check(err["type"] == "error"
          and err["error"]["condition"] == "service-unavailable"
          and err["body"] == "one too many",
          "past offline_max_messages (3): service-unavailable")
    # A message without a body (a chat state) is not stored, not bounced.
    m = a.make_message(mto="bob@localhost", mtype="chat")
    m.xml.append(__import__("xml.etree.ElementTree").etree.ElementTree
                 .fromstring("<active xmlns='http://jabber.org/protocol/"
                             "chatstates'/>"))
    m.send()
    await a["xep_0199"].ping(jid="localhost", timeout=10)

    b = await login(rig, "bob@localhost/b", "pencil")
    await asyncio.sleep(0.5)
    check(b.messages.empty(), "nothing before available presence")
    b.send_presence(ppriority=-1)
    await asyncio.sleep(0.5)
    check(b.messages.empty(), "nothing for a negative priority")
    b.send_presence(ppriority=1)
    got = []
    for _ in range(3):
        got.append(await next_message(b))
    check([m["body"] for m in got] == ["offline 0", "offline 1",
                                       "offline 2"],
          "three stored messages, in order")
    check(all(str(m["from"]) == "alice@localhost/a" for m in got),
          "from the sender's full JID")
    stamps = [m.xml.find("{urn:xmpp:delay}delay") for m in got]
    check(all(s is not None and s.get("from") == "localhost"
              and s.get("stamp", "").endswith("Z") for s in stamps),
          "each with an XEP-0203 delay")
    await asyncio.sleep(0.5)
    check(b.messages.empty(), "the chat state was not stored")
    await logout(b)

    b = await login(rig, "bob@localhost/b", "pencil")
    b.send_presence()
    await asyncio.sleep(1)
    check(b.messages.empty(), "delivered messages are gone")
    a.send_message(mto="bob@localhost", mbody="live", mtype="chat")
    m = await next_message(b)
    check(m["body"] == "live" and m.xml.find("{urn:xmpp:delay}delay") is None,
          "an online account gets messages directly")
    await logout(a, b)


main(test, offline_max_messages=3)
