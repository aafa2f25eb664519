"""xmppd-muc, unchanged, serves conference.localhost for Prosody (Debian's
prosody) as the router over XEP-0114: two Prosody clients create, enter
and talk in a room."""
import asyncio

from xdtest import MUC, MUC_DOMAIN, check, passed, main, mc_codes, mc_configure, \
    mc_drain, mc_from, mc_join, mc_login, mc_next, start_prosody

ROOM = "lounge@" + MUC_DOMAIN


async def test(rig):
    start_prosody(rig, MUC_DOMAIN, ["alice", "bob"], "pencil")
    muc = rig.start("xmppd-muc", [MUC, "-c", rig.config])
    muc.wait_log("link up")
    passed("xmppd-muc completes the handshake with Prosody")

    a = await mc_login(rig, "alice@localhost/a", "pencil")
    b = await mc_login(rig, "bob@localhost/b", "pencil")
    await asyncio.sleep(0.3)
    mc_drain(a, b)
    _, me = await mc_join(a, ROOM, "Alice")
    check(me["type"] != "error" and {110, 201} <= mc_codes(me),
          "alice creates a room through Prosody (110, 201)")
    _, err = await mc_configure(a, ROOM)
    check(err is None, "and makes it an instant room (%s)" % err)
    others, me = await mc_join(b, ROOM, "Bob")
    check(me["type"] != "error" and
          [mc_from(p) for p in others] == [ROOM + "/Alice"],
          "bob enters and sees alice")
    await mc_next(a.presences, lambda p: mc_from(p) == ROOM + "/Bob",
                  "alice sees bob enter")
    a.send_raw("<message to='%s' type='groupchat'><body>hi bob</body>"
               "</message>" % ROOM)
    m = await mc_next(b.messages, lambda m: m["body"] == "hi bob",
                      "alice's message at bob")
    check(mc_from(m) == ROOM + "/Alice", "bob gets alice's message")
    b.send_raw("<message to='%s' type='groupchat'><body>hi alice</body>"
               "</message>" % ROOM)
    m = await mc_next(a.messages, lambda m: m["body"] == "hi alice",
                      "bob's message at alice")
    check(mc_from(m) == ROOM + "/Bob", "alice gets bob's message")
    a.disconnect()
    b.disconnect()
    await asyncio.sleep(0.3)


main(test)
