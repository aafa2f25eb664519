"""A component's presence (libxmppd's presence helper, in xmppd-echo) seen
by a real client through xmppd: the user adds echo.localhost, gets
subscribed with the roster item at "to" and sees the service available;
a new session's probe is answered; when xmppd-echo stops the user sees it
go unavailable, and when it starts again (its subscriptions are in its
database) the user gets its presence again without asking. A subscription
to an entity of the service is refused."""
import asyncio
import os

from xdtest import ECHO, check, expect, login, logout, main

NS = "{jabber:iq:roster}"


async def client(rig, jid):
    c = await login(rig, jid, "pencil")
    c.roster.auto_authorize = None
    c.roster.auto_subscribe = False
    c.presences = asyncio.Queue()
    c.pushes = asyncio.Queue()
    c.add_event_handler("presence", c.presences.put_nowait)
    c.add_event_handler("roster_update", c.pushes.put_nowait)
    await c.get_roster(timeout=10)
    c.send_presence()
    return c




def pres(ptype, frm):
    return lambda p: p["type"] == ptype and str(p["from"]) == frm


def item_of(push, jid):
    for i in push.xml.iter(NS + "item"):
        if i.get("jid") == jid:
            return i.get("subscription"), i.get("ask")
    return None


def start_echo(rig, ini, name):
    echo = rig.start(name, [ECHO, "-c", ini])
    echo.wait_log("link up")
    return echo


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    ini = os.path.join(rig.dir, "echo-presence.ini")
    with open(ini, "w") as f:
        f.write("[echo]\ndomain = echo.localhost\nsecret = %s\n"
                "router_host = 127.0.0.1\nrouter_port = %d\n"
                "reconnect_min_ms = 100\ndb_path = %s\n"
                % (rig.secret, rig.component_port,
                   os.path.join(rig.dir, "echo.db")))
    echo = start_echo(rig, ini, "xmppd-echo")

    a = await client(rig, "alice@localhost/desk")
    a.send_presence(pto="echo.localhost", ptype="subscribe")
    await expect(a.presences, pres("subscribed", "echo.localhost"),
                 "alice's subscribe to echo.localhost is approved")
    p = await expect(a.presences, pres("available", "echo.localhost"),
                     "and alice sees the service available")
    check("send it back" in p["status"], "with the service's status")
    await expect(a.pushes, lambda push: item_of(push, "echo.localhost")
                 == ("to", None),
                 "alice's roster item for echo.localhost is at 'to'")

    # A second session's initial presence probes the service.
    b = await client(rig, "alice@localhost/phone")
    await expect(b.presences, pres("available", "echo.localhost"),
                 "a new session's probe is answered: available")

    # Entities of the service have no policy: refused.
    a.send_presence(pto="bot@echo.localhost", ptype="subscribe")
    await expect(a.presences, pres("unsubscribed", "bot@echo.localhost"),
                 "a subscribe to bot@echo.localhost is refused")

    # The service stops, then comes back with its subscriptions.
    rc = echo.stop()
    check(rc == 0, "xmppd-echo stops cleanly")
    await expect(a.presences, pres("unavailable", "echo.localhost"),
                 "alice sees the service go unavailable when it stops")
    echo = start_echo(rig, ini, "xmppd-echo-again")
    check("1 subscription(s) loaded" in echo.text(),
          "the restarted service loads alice's subscription")
    await expect(a.presences, pres("available", "echo.localhost"),
                 "after the restart alice gets its presence again")
    await expect(b.presences, pres("available", "echo.localhost"),
                 "and so does her other session")
    await logout(a, b)


if __name__ == "__main__":
    main(test)
