"""Presence subscriptions (RFC 6121 section 3) and broadcast (section 4)
between local accounts: request, approval, the roster states on both sides,
presence flowing only to subscribers, probes on login, requests stored for
an offline contact, unsubscribe and unavailable on disconnect."""
import asyncio

from xdtest import Failure, expect, passed, login, logout, main

NS = "{jabber:iq:roster}"


async def client(rig, jid):
    c = await login(rig, jid, "pencil")
    # Answer nothing on our behalf: the test decides.
    c.roster.auto_authorize = None
    c.roster.auto_subscribe = False
    c.presences = asyncio.Queue()
    c.pushes = asyncio.Queue()
    c.add_event_handler("presence", c.presences.put_nowait)
    c.add_event_handler("roster_update", c.pushes.put_nowait)
    await c.get_roster(timeout=10)  # interested: gets pushes
    return c




async def nothing(queue, pred, what, wait=1.0):
    await asyncio.sleep(wait)
    while not queue.empty():
        if pred(queue.get_nowait()):
            raise Failure("unexpected: " + what)
    passed("no " + what)


def item_of(push, jid):
    for i in push.xml.iter(NS + "item"):
        if i.get("jid") == jid:
            return i.get("subscription"), i.get("ask")
    return None


def pres(ptype, frm):
    return lambda p: p["type"] == ptype and str(p["from"]).startswith(frm)


async def test(rig):
    for u in ("alice", "bob", "carol"):
        rig.adduser(u + "@localhost", "pencil")
    rig.start_xmppd()
    a = await client(rig, "alice@localhost/a")
    b = await client(rig, "bob@localhost/b")
    a.send_presence()
    b.send_presence()
    await nothing(a.presences, pres("available", "bob@"),
                  "presence from bob before any subscription")

    a.send_presence(pto="bob@localhost", ptype="subscribe")
    await expect(a.pushes, lambda p: item_of(p, "bob@localhost") ==
                 ("none", "subscribe"), "alice's roster: bob, none + ask")
    await expect(b.presences, pres("subscribe", "alice@localhost"),
                 "bob gets alice's request, from her bare JID")

    b.send_presence(pto="alice@localhost", ptype="subscribed")
    await expect(b.pushes, lambda p: item_of(p, "alice@localhost") ==
                 ("from", None), "bob's roster: alice, from")
    await expect(a.pushes, lambda p: item_of(p, "bob@localhost") ==
                 ("to", None), "alice's roster: bob, to")
    await expect(a.presences, pres("subscribed", "bob@localhost"),
                 "alice is told she is subscribed")
    await expect(a.presences, pres("available", "bob@localhost/b"),
                 "and gets bob's current presence")

    b.send_presence(pshow="away", pstatus="lunch")
    await expect(a.presences, lambda p: str(p["from"]) == "bob@localhost/b"
                 and p["show"] == "away", "bob's update reaches alice")
    a.send_presence(pshow="dnd")
    await nothing(b.presences, lambda p: str(p["from"]) == "alice@localhost/a"
                  and p["show"] == "dnd",
                  "alice's presence at bob (he is not subscribed)")

    # A new resource of alice's probes: bob's presence comes to it.
    a2 = await client(rig, "alice@localhost/second")
    a2.send_presence()
    await expect(a2.presences, lambda p: str(p["from"]) == "bob@localhost/b",
                 "a probe on login brings bob's presence")
    await logout(a2)

    # A request to an offline account waits for it.
    a.send_presence(pto="carol@localhost", ptype="subscribe")
    await a["xep_0199"].ping(jid="localhost", timeout=10)
    c = await client(rig, "carol@localhost/c")
    c.send_presence()
    await expect(c.presences, pres("subscribe", "alice@localhost"),
                 "carol gets the request stored while she was offline")
    c.send_presence(pto="alice@localhost", ptype="unsubscribed")
    await expect(a.pushes, lambda p: item_of(p, "carol@localhost") ==
                 ("none", None), "carol's refusal clears alice's ask")
    await logout(c)
    c = await client(rig, "carol@localhost/c")
    c.send_presence()
    await nothing(c.presences, pres("subscribe", "alice@"),
                  "answered request redelivered")
    await logout(c)

    # Mutual, then alice leaves: bob sees her go.
    b.send_presence(pto="alice@localhost", ptype="subscribe")
    await expect(a.presences, pres("subscribe", "bob@localhost"),
                 "alice gets bob's request")
    a.send_presence(pto="bob@localhost", ptype="subscribed")
    await expect(b.pushes, lambda p: item_of(p, "alice@localhost") ==
                 ("both", None), "bob's roster: alice, both")
    await expect(b.presences, pres("dnd", "alice@localhost/a"),
                 "bob now gets alice's presence")
    # Asking again for what is already approved is answered by the server
    # (RFC 6121 3.1.3): alice is not asked again.
    b.send_presence(pto="alice@localhost", ptype="subscribe")
    await nothing(a.presences, pres("subscribe", "bob@"),
                  "second request shown to alice")

    a.send_presence(pto="bob@localhost", ptype="unsubscribe")
    await expect(a.pushes, lambda p: item_of(p, "bob@localhost") ==
                 ("from", None), "alice unsubscribes: alice has bob as from")
    await expect(b.pushes, lambda p: item_of(p, "alice@localhost") ==
                 ("to", None), "and bob has alice as to")
    await expect(a.presences, pres("unavailable", "bob@localhost/b"),
                 "alice gets bob's unavailable")
    a.disconnect()
    await expect(b.presences, pres("unavailable", "alice@localhost/a"),
                 "bob sees alice go offline")
    await logout(b)


if __name__ == "__main__":
    main(test)
