"""components/examples/dice (xmppd-dice) under xmppd, as a user's client
sees it: a subscription answered and the bot shown available with its
XEP-0115 caps; chat (every message rolls the user's dice); the two stages
of the ad-hoc command "settings" (a bad value refused, next, complete);
XEP-0092 version; disco#info; and the user's dice, roll count and
subscription surviving a restart of the bot. test_example_dice_prosody.py
runs the same session with Prosody as the router."""
import asyncio
import os
import re

from xdtest import BUILD, NS_XDATA, TIMEOUT, Failure, check, form_fields, \
    login, logout, main, mc_login, passed, send_iq, submit_form

DICE = os.path.join(BUILD, "components", "examples", "dice", "xmppd-dice")
DOMAIN = "dice.localhost"
NS_COMMANDS = "http://jabber.org/protocol/commands"
NS_CAPS = "http://jabber.org/protocol/caps"


def write_dice_config(rig):
    """Adds the router's [component dice.localhost] and the bot's [dice]."""
    with open(rig.config, "a") as f:
        f.write("\n[component %s]\nsecret = %s\n" % (DOMAIN, rig.secret))
        f.write("\n[dice]\ndomain = %s\nsecret = %s\nrouter_host = 127.0.0.1"
                "\nrouter_port = %d\nreconnect_min_ms = 100\ndb_path = %s\n"
                % (DOMAIN, rig.secret, rig.component_port,
                   os.path.join(rig.dir, "dice.db")))


def start_dice(rig):
    dice = rig.start("xmppd-dice", [DICE, "-c", rig.config])
    dice.wait_log("link up")
    return dice


async def presence_from(c, want_type=None):
    """The next presence from the bot's domain of want_type (None:
    available), skipping others."""
    while True:
        try:
            p = await asyncio.wait_for(c.presences.get(), TIMEOUT)
        except asyncio.TimeoutError:
            raise Failure("no presence %s from %s" % (want_type, DOMAIN))
        if p["from"].bare == DOMAIN and \
                (p.xml.get("type") or None) == want_type:
            return p


async def roll(c, n, sides, count):
    """Sends a message; checks the answer is n dice of 1..sides and their
    sum, at roll `count`."""
    c.send_message(mto=DOMAIN, mbody="roll", mtype="chat")
    while True:
        try:
            m = await asyncio.wait_for(c.messages.get(), TIMEOUT)
        except asyncio.TimeoutError:
            raise Failure("no answer from the bot")
        if m["from"].bare == DOMAIN and m["body"]:
            break
    text = m["body"]
    g = re.fullmatch(r"([0-9 +]+) = (\d+) \(roll (\d+)\)", text)
    dice = [int(x) for x in g.group(1).split(" + ")] if g else []
    check(g and len(dice) == n and all(1 <= d <= sides for d in dice) and
          sum(dice) == int(g.group(2)) and int(g.group(3)) == count and
          m["type"] == "chat",
          "the bot rolls %dd%d, roll %d: %r" % (n, sides, count, text))


async def command(c, sid, action, form=""):
    attr = " sessionid='%s'" % sid if sid else ""
    return await send_iq(
        c, "set", "<command xmlns='%s' node='settings' action='%s'%s>%s"
        "</command>" % (NS_COMMANDS, action, attr, form), to=DOMAIN)


async def session(rig, restart=None):
    """The whole session; `restart` (a coroutine function) restarts the bot
    and is followed by the checks of what survived it (None: skipped)."""
    c = await mc_login(rig, "alice@localhost/dice", "pencil")
    c.send_presence(pto=DOMAIN, ptype="subscribe")
    p = await presence_from(c)
    caps = p.xml.find("{%s}c" % NS_CAPS)
    check(p["status"] == "Say something: I roll",
          "the subscription is answered and the bot shown available")
    check(caps is not None and caps.get("hash") == "sha-1" and
          caps.get("node") == "urn:xmppd:xmppd-dice" and caps.get("ver"),
          "its presence carries XEP-0115 caps")
    ver = caps.get("ver")
    roster = await c.get_roster(timeout=TIMEOUT)
    check(roster["roster"]["items"].get(DOMAIN, {}).get("subscription")
          == "to",
          "the roster says alice is subscribed to the bot")

    await roll(c, 2, 6, 1)
    await roll(c, 2, 6, 2)

    iq, err = await command(c, None, "execute")
    cmd = iq.xml.find("{%s}command" % NS_COMMANDS)
    x = cmd.find("{%s}x" % NS_XDATA) if cmd is not None else None
    f = form_fields(x)
    check(err is None and cmd.get("status") == "executing" and
          f.get("count", (0, []))[1] == ["2"] and
          f.get("sides", (0, []))[1] == ["6"] and
          f["sides"][2] == ["4", "6", "8", "10", "12", "20"],
          "the command's first stage: 2 dice of 6 sides so far (%s)" % f)
    sid = cmd.get("sessionid")
    iq, err = await command(c, sid, "next",
                            submit_form(None, {"count": 11, "sides": 8}))
    check(err == "bad-request" and
          iq.xml.find(".//{%s}bad-payload" % NS_COMMANDS) is not None,
          "11 dice: bad-request with bad-payload (%s)" % err)
    iq, err = await command(c, sid, "next",
                            submit_form(None, {"count": 3, "sides": 8}))
    cmd = iq.xml.find("{%s}command" % NS_COMMANDS)
    f = form_fields(cmd.find("{%s}x" % NS_XDATA))
    fixed = [v for t, v, _ in f.values() if t == "fixed"]
    check(err is None and cmd.get("status") == "executing" and
          fixed == [["You will roll 3d8."]] and "reset" in f,
          "the second stage says what the first chose (%s)" % f)
    iq, err = await command(c, sid, "complete",
                            submit_form(None, {"reset": "0"}))
    cmd = iq.xml.find("{%s}command" % NS_COMMANDS)
    check(err is None and cmd.get("status") == "completed" and
          cmd.findtext("{%s}note" % NS_COMMANDS) == "Saved.",
          "completed: Saved.")
    await roll(c, 3, 8, 3)

    iq, err = await send_iq(c, "get", "<query xmlns='jabber:iq:version'/>",
                            to=DOMAIN)
    q = iq.xml.find("{jabber:iq:version}query")
    check(err is None and q.findtext("{jabber:iq:version}name") ==
          "xmppd-dice" and q.findtext("{jabber:iq:version}version") == "1.0",
          "XEP-0092: xmppd-dice 1.0")
    info = await c["xep_0030"].get_info(jid=DOMAIN, timeout=TIMEOUT)
    feats = info["disco_info"]["features"]
    check(("component", "generic", None, "Dice")
          in info["disco_info"]["identities"] and
          all(f in feats for f in (NS_COMMANDS, "jabber:iq:version",
                                   "http://jabber.org/protocol/disco#info",
                                   "urn:xmpp:ping")),
          "disco#info: the identity and the features (%s)" % feats)
    items = await c["xep_0030"].get_items(jid=DOMAIN, node=NS_COMMANDS,
                                          timeout=TIMEOUT)
    check([i[1] for i in items["disco_items"]["items"]] == ["settings"],
          "disco#items lists the settings command")

    if restart is not None:
        await restart()
        await presence_from(c, "unavailable")
        p = await presence_from(c)
        check(p.xml.find("{%s}c" % NS_CAPS).get("ver") == ver,
              "after a restart the bot shows available again, same caps")
        await roll(c, 3, 8, 4)
        passed("after a restart: alice's dice (3d8) and count (4) were kept")
    await logout(c)


async def test(rig):
    write_dice_config(rig)
    rig.start_xmppd()
    rig.adduser("alice@localhost", "pencil")
    dice = [start_dice(rig)]
    rig.xmppd.wait_log("component %s connected" % DOMAIN)

    async def restart():
        check(dice[0].stop() == 0, "xmppd-dice exits 0 on SIGTERM")
        dice[0] = start_dice(rig)
    await session(rig, restart)


if __name__ == "__main__":
    main(test)
