"""A slixmpp client logs in over STARTTLS (SCRAM-SHA-1, SCRAM-SHA-256,
PLAIN) and over direct TLS, and xmppd-echo answers it through the router;
the server and the component answer disco, ping and version."""
import asyncio

from xdtest import check, passed, login, logout, main, next_message


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    rig.start_echo()
    cases = [("SCRAM-SHA-1", False), ("SCRAM-SHA-256", False),
             ("PLAIN", False), ("SCRAM-SHA-1", True)]
    for mech, direct in cases:
        c = await login(rig, "alice@localhost/t", "pencil", mech, direct)
        check(c.boundjid.full == "alice@localhost/t",
              "%s (direct TLS %s): bound alice@localhost/t" % (mech, direct))
        body = "hello over %s" % mech
        c.send_message(mto="echo.localhost", mbody=body, mtype="chat")
        m = await next_message(c)
        check(str(m["from"]) == "echo.localhost" and m["body"] == body
              and m["type"] == "chat", "echo answered: " + body)
        await logout(c)

    c = await login(rig, "alice@localhost", "pencil")
    check(len(c.boundjid.resource) >= 8, "a resource is generated when "
          "none is asked for (%s)" % c.boundjid.resource)
    info = await c["xep_0030"].get_info(jid="echo.localhost", timeout=10)
    ids = info["disco_info"]["identities"]
    check(("component", "generic", None, "Echo") in ids,
          "echo's disco#info identity: %s" % (ids,))
    await c["xep_0199"].ping(jid="echo.localhost", timeout=10)
    passed("echo answers ping")
    # XEP-0092, answered by the framework with what main gave xd_config_main.
    iq = c.make_iq_get(queryxmlns="jabber:iq:version", ito="echo.localhost")
    res = await iq.send(timeout=10)
    q = res.xml.find("{jabber:iq:version}query")
    name = q.findtext("{jabber:iq:version}name") if q is not None else None
    check(name == "xmppd-echo" and "jabber:iq:version" in
          info["disco_info"]["features"], "echo's version: %s" % name)
    info = await c["xep_0030"].get_info(jid="localhost", timeout=10)
    check(("server", "im", None, "xmppd") in info["disco_info"]["identities"]
          and "urn:xmpp:ping" in info["disco_info"]["features"],
          "the server's disco#info")
    items = await c["xep_0030"].get_items(jid="localhost", timeout=10)
    jids = [i[0] for i in items["disco_items"]["items"]]
    check("echo.localhost" in jids, "the server lists its components: %s"
          % jids)
    await c["xep_0199"].ping(jid="localhost", timeout=10)
    passed("the server answers ping")

    # Two resources of one account: messages to a full JID reach that one.
    c2 = await login(rig, "alice@localhost/second", "pencil")
    c2.send_message(mto=c.boundjid.full, mbody="to the first", mtype="chat")
    m = await next_message(c)
    check(str(m["from"]) == "alice@localhost/second"
          and m["body"] == "to the first", "full-JID delivery between "
          "resources, from stamped by the server")
    # A second login with the same resource replaces the first session.
    c3 = await login(rig, "alice@localhost/second", "pencil")
    cond = await asyncio.wait_for(c2.stream_error, 10)
    check(cond == "conflict", "the older session of a resource is replaced "
          "with the conflict stream error")
    c3.send_message(mto=c.boundjid.full, mbody="from the new one")
    m = await next_message(c)
    check(str(m["from"]) == "alice@localhost/second", "the new session "
          "works")
    await logout(c, c3)


main(test)
