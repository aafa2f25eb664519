"""XEP-0198 stream management: acknowledgements both ways, resumption of a
lost connection with what it missed (python3-slixmpp's own xep_0198 plugin
as the client), and the unhappy paths by hand: enabling before binding, an
unknown resumption id, another account's id, acknowledging more than was
sent, and a session that is never resumed, whose unacknowledged messages
are then stored offline rather than lost."""
import asyncio
import re

from xdtest import (RawClient, check, login, logout, main,
                    next_message)


def run(f, *args):
    return asyncio.get_event_loop().run_in_executor(None, f, *args)


async def resumes_with_slixmpp(rig):
    a = await login(rig, "alice@localhost/a", "pencil")
    b = await login(rig, "bob@localhost/phone", "pencil")
    b.register_plugin("xep_0198")
    sm = b.plugin["xep_0198"]
    enabled, resumed = asyncio.Event(), asyncio.Event()
    b.add_event_handler("sm_enabled", lambda ev: enabled.set())
    b.add_event_handler("session_resumed", lambda ev: resumed.set())
    # The plugin negotiates at the next stream features: log in again.
    await logout(b)
    await run(rig.xmppd.wait_log, "session bob@localhost/phone ended")
    ended = rig.xmppd.text().count("session bob@localhost/phone ended")
    b.connect(address=("127.0.0.1", rig.c2s_port))
    await asyncio.wait_for(enabled.wait(), 10)
    check(sm.sm_id, "resumable: the server gave an id")
    b.send_presence()
    await asyncio.sleep(0.3)

    a.send_message(mto="bob@localhost/phone", mbody="before", mtype="chat")
    m = await next_message(b)
    check(m["body"] == "before", "delivered under stream management")

    # The connection dies without a word.
    b.abort()
    await asyncio.sleep(0.5)
    for n in range(3):
        a.send_message(mto="bob@localhost/phone", mbody="missed %d" % n,
                       mtype="chat")
    await asyncio.sleep(0.5)
    check(rig.xmppd.text().count("session bob@localhost/phone ended") ==
          ended, "the session waits for its client")
    b.connect(address=("127.0.0.1", rig.c2s_port))
    await asyncio.wait_for(resumed.wait(), 10)
    got = []
    for _ in range(3):
        got.append((await next_message(b))["body"])
    check(got == ["missed 0", "missed 1", "missed 2"],
          "the resumed stream gets what it missed, in order: %s" % got)
    await asyncio.sleep(0.5)
    check(b.messages.empty(), "nothing twice")
    # Still the same session: a message to the full JID arrives.
    a.send_message(mto="bob@localhost/phone", mbody="after", mtype="chat")
    check((await next_message(b))["body"] == "after", "flows after resume")
    await logout(a, b)


def raw_paths(rig):
    # Enabling before a resource is bound is refused.
    c = RawClient(rig)
    feats = c.login("carol", "pencil")
    check("urn:xmpp:sm:3" in feats, "sm offered after authentication")
    c.send("<enable xmlns='urn:xmpp:sm:3'/>")
    check("unexpected-request" in c.expect("</failed>"), "enable before bind")
    # An unknown id cannot be resumed.
    c.send("<resume xmlns='urn:xmpp:sm:3' previd='nosuchid' h='0'/>")
    check("item-not-found" in c.expect("</failed>"), "unknown previd")
    c.bind("desk")
    c.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
    enabled = c.expect("/>")
    check("<enabled" in enabled and "resume='true'" in enabled, enabled)
    sm_id = re.search(r"id='([^']+)'", enabled).group(1)
    c.send("<enable xmlns='urn:xmpp:sm:3'/>")
    check("unexpected-request" in c.expect("</failed>"), "enabled twice")

    # The server counts what it handled.
    c.send("<iq type='get' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>"
           "<iq type='get' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>"
           "<r xmlns='urn:xmpp:sm:3'/>")
    c.expect("id='p2'")
    c.expect("<a ")
    ack = "<a " + c.expect("/>")
    check("<a xmlns='urn:xmpp:sm:3' h='2'" in ack, "h counts stanzas: " + ack)

    # Another account cannot take over the session.
    d = RawClient(rig)
    d.login("dave", "pencil")
    d.send("<resume xmlns='urn:xmpp:sm:3' previd='%s' h='0'/>" % sm_id)
    check("item-not-found" in d.expect("</failed>"), "someone else's id")
    d.drop()

    # Acknowledging more than was sent is a stream error.
    c.send("<a xmlns='urn:xmpp:sm:3' h='1000'/>")
    err = c.expect("</stream:stream>")
    check("undefined-condition" in err and "handled-count-too-high" in err,
          "h too high: " + err)
    c.drop()


def expires(rig):
    """Bob's session is never resumed: what he did not acknowledge goes to
    offline storage, and the next login gets it."""
    c = RawClient(rig)
    c.login("erin", "pencil")
    c.bind("tablet")
    c.send("<enable xmlns='urn:xmpp:sm:3' resume='true' max='2'/>")
    check("max='2'" in c.expect("/>"), "the client may ask for less")
    c.send("<presence/>")
    return c


async def test(rig):
    for u in ("alice", "bob", "carol", "dave", "erin"):
        rig.adduser("%s@localhost" % u, "pencil")
    rig.start_xmppd()
    await resumes_with_slixmpp(rig)
    await run(raw_paths, rig)

    c = await run(expires, rig)
    a = await login(rig, "alice@localhost/a", "pencil")
    await asyncio.sleep(0.3)
    a.send_message(mto="erin@localhost/tablet", mbody="unacked", mtype="chat")
    await run(c.expect, "unacked")  # arrived, never acknowledged
    c.drop()
    await asyncio.sleep(0.5)
    a.send_message(mto="erin@localhost/tablet", mbody="while away",
                   mtype="chat")
    await run(rig.xmppd.wait_log, "session erin@localhost/tablet ended", 10)
    e = await login(rig, "erin@localhost/other", "pencil")
    e.send_presence()
    got = sorted([(await next_message(e))["body"] for _ in range(2)])
    check(got == ["unacked", "while away"],
          "nothing unacknowledged is lost: %s" % got)
    await logout(a, e)


main(test, c2s_require_tls="false")
