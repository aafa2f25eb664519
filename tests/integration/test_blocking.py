"""XEP-0191 blocking: the block list, pushes to interested resources, and
enforcement both ways (bare JID and domain items), then unblocking one
and all."""
import asyncio

import slixmpp

from xdtest import send_iq, check, passed, login, logout, main, next_message

B = "urn:xmpp:blocking"



def blocked_jids(res):
    return sorted(i.get("jid") for i in res.xml.iter("{%s}item" % B))


async def quiet(c, wait=0.7):
    await asyncio.sleep(wait)
    return c.messages.empty()


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.start_xmppd()
    a = await login(rig, "alice@localhost/a", "pencil")
    a2 = await login(rig, "alice@localhost/a2", "pencil")
    b = await login(rig, "bob@localhost/b", "pencil")
    for c in (a, a2, b):
        c.send_presence()
    pushes = asyncio.Queue()
    a2.register_handler(slixmpp.xmlstream.handler.Callback(
        "block pushes", slixmpp.xmlstream.matcher.MatchXPath(
            "{jabber:client}iq/{%s}block" % B), pushes.put_nowait))
    a2.register_handler(slixmpp.xmlstream.handler.Callback(
        "unblock pushes", slixmpp.xmlstream.matcher.MatchXPath(
            "{jabber:client}iq/{%s}unblock" % B), pushes.put_nowait))

    res, err = await send_iq(a, "get", "<blocklist xmlns='%s'/>" % B)
    check(err is None and blocked_jids(res) == [], "an empty block list")
    await send_iq(a2, "get", "<blocklist xmlns='%s'/>" % B)
    _, err = await send_iq(a, "set", "<block xmlns='%s'/>" % B)
    check(err == "bad-request", "block without items: bad-request")

    _, err = await send_iq(a, "set", "<block xmlns='%s'><item jid='Bob@Localhost'/>"
                      "</block>" % B)
    check(err is None, "alice blocks bob")
    p = await asyncio.wait_for(pushes.get(), 10)
    check(blocked_jids(p) == ["bob@localhost"],
          "the other resource gets the push, JID prepared")
    res, _ = await send_iq(a, "get", "<blocklist xmlns='%s'/>" % B)
    check(blocked_jids(res) == ["bob@localhost"], "the list shows bob")
    await asyncio.sleep(0.3)
    for c in (a, a2, b):
        while not c.messages.empty():
            c.messages.get_nowait()

    b.send_message(mto="alice@localhost", mbody="hello?", mtype="chat")
    m = await next_message(b)
    check(m["type"] == "error"
          and m["error"]["condition"] == "service-unavailable",
          "bob's message to alice comes back service-unavailable")
    check(await quiet(a), "alice sees nothing from bob")
    a.send_message(mto="bob@localhost/b", mbody="hi", mtype="chat")
    m = await next_message(a)
    check(m["type"] == "error" and m["error"]["condition"] == "not-acceptable"
          and m.xml.find(".//{urn:xmpp:blocking:errors}blocked") is not None,
          "alice's own message to bob: not-acceptable with <blocked/>")
    check(await quiet(b), "and it never reaches bob")

    await send_iq(a, "set", "<unblock xmlns='%s'><item jid='bob@localhost'/>"
             "</unblock>" % B)
    p = await asyncio.wait_for(pushes.get(), 10)
    check(p.xml.find("{%s}unblock" % B) is not None, "unblock is pushed")
    b.send_message(mto="alice@localhost/a", mbody="again", mtype="chat")
    m = await next_message(a)
    check(m["body"] == "again", "after unblocking, messages pass")

    await send_iq(a, "set", "<block xmlns='%s'><item jid='localhost'/></block>" % B)
    b.send_message(mto="alice@localhost/a", mbody="domain", mtype="chat")
    m = await next_message(b)
    check(m["type"] == "error", "a blocked domain blocks its users")
    await send_iq(a, "set", "<unblock xmlns='%s'/>" % B)
    res, _ = await send_iq(a, "get", "<blocklist xmlns='%s'/>" % B)
    check(blocked_jids(res) == [], "unblock without items empties the list")
    b.send_message(mto="alice@localhost/a", mbody="free", mtype="chat")
    while True:
        m = await next_message(a)
        if m["body"] == "free":
            break
    passed("everything passes again")
    await logout(a, a2, b)


main(test)
