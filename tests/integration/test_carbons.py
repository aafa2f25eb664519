"""XEP-0280 message carbons: resources that enabled carbons get <received/>
copies of chat messages that went to another resource and <sent/> copies
of what another resource sent; private messages and other types are not
copied; disable stops it."""
import asyncio
import xml.etree.ElementTree as ET

from xdtest import check, login, logout, main, next_message

C = "{urn:xmpp:carbons:2}"
F = "{urn:xmpp:forward:0}"


async def carbons(c, what):
    iq = c.Iq(stype="set")
    iq.append(ET.fromstring("<%s xmlns='urn:xmpp:carbons:2'/>" % what))
    await iq.send(timeout=10)


def wrapped(m, direction):
    inner = m.xml.find("%s%s/%sforwarded/{jabber:client}message"
                       % (C, direction, F))
    return None if inner is None else (inner.get("from"), inner.get("to"),
                                       inner.findtext("{jabber:client}body"))


async def quiet(c, wait=0.7):
    await asyncio.sleep(wait)
    return c.messages.empty()


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.start_xmppd()
    one = await login(rig, "alice@localhost/one", "pencil")
    two = await login(rig, "alice@localhost/two", "pencil")
    three = await login(rig, "alice@localhost/three", "pencil")
    bob = await login(rig, "bob@localhost/b", "pencil")
    one.send_presence(ppriority=5)
    two.send_presence(ppriority=1)
    three.send_presence(ppriority=1)
    bob.send_presence()
    await carbons(one, "enable")
    await carbons(two, "enable")
    info = await one["xep_0030"].get_info(jid="localhost", timeout=10)
    check("urn:xmpp:carbons:2" in info["disco_info"]["features"],
          "the server advertises carbons")
    await asyncio.sleep(0.5)
    for c in (one, two, three, bob):  # own presence echoes
        while not c.messages.empty():
            c.messages.get_nowait()

    bob.send_message(mto="alice@localhost", mbody="to bare", mtype="chat")
    m = await next_message(one)
    check(m["body"] == "to bare", "the top-priority resource gets it")
    m = await next_message(two)
    check(wrapped(m, "received") == ("bob@localhost/b", "alice@localhost",
                                     "to bare")
          and str(m["from"]) == "alice@localhost",
          "an enabled resource gets a <received/> copy from the bare JID")
    check(await quiet(three), "a resource without carbons gets nothing")

    bob.send_message(mto="alice@localhost/two", mbody="to two", mtype="chat")
    m = await next_message(two)
    check(m["body"] == "to two", "a full-JID message reaches its resource")
    m = await next_message(one)
    check(wrapped(m, "received") == ("bob@localhost/b", "alice@localhost/two",
                                     "to two"),
          "and the other enabled resource gets the copy")

    one.send_message(mto="bob@localhost", mbody="from one", mtype="chat")
    m = await next_message(bob)
    check(m["body"] == "from one", "bob gets alice's message")
    m = await next_message(two)
    check(wrapped(m, "sent") == ("alice@localhost/one", "bob@localhost",
                                 "from one"),
          "the other enabled resource gets a <sent/> copy")
    check(await quiet(one), "the sender gets no copy of its own message")

    msg = one.make_message(mto="bob@localhost", mbody="private",
                           mtype="chat")
    msg.xml.append(ET.fromstring("<private xmlns='urn:xmpp:carbons:2'/>"))
    msg.send()
    await next_message(bob)
    bob.send_message(mto="alice@localhost", mbody="normal", mtype="normal")
    await next_message(one)
    check(await quiet(two), "private and non-chat messages are not copied")

    await carbons(two, "disable")
    bob.send_message(mto="alice@localhost", mbody="after", mtype="chat")
    await next_message(one)
    check(await quiet(two), "disable stops the copies")
    await logout(one, two, three, bob)


main(test)
