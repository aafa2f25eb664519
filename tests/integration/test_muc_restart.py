"""xmppd-muc across restarts: SIGKILL of the component mid-conversation
keeps a persistent room's configuration, affiliations (an owner and a
member list), subject and history; temporary rooms are gone; clients can
rejoin. Then xmppd restarts (SIGTERM): the component reconnects on its own,
forgets the occupants whose sessions ended (no ghosts: a rejoin is a fresh
entry with 110), and temporary rooms are gone."""
import asyncio
import signal

from xdtest import MUC, MUC_ADMIN, MUC_DOMAIN, Failure, check, passed, main, \
    mc_collect, mc_codes, mc_create, mc_drain, mc_error, mc_from, \
    mc_item, mc_join, mc_log_count, mc_login, mc_next, mc_wait_log_count, \
    send_iq

KEEP = "keep@" + MUC_DOMAIN
GONE = "gone@" + MUC_DOMAIN
GONE2 = "gone2@" + MUC_DOMAIN
LINK = "component %s connected" % MUC_DOMAIN
DISCO_INFO = "http://jabber.org/protocol/disco#info"


async def room_info(c, room):
    """(features, identity names, error condition) of a room."""
    res, err = await send_iq(c, "get", "<query xmlns='%s'/>" % DISCO_INFO,
                             to=room)
    if err:
        return set(), [], err
    q = res.xml.find("{%s}query" % DISCO_INFO)
    return ({f.get("var") for f in q.findall("{%s}feature" % DISCO_INFO)},
            [i.get("name") for i in q.findall("{%s}identity" % DISCO_INFO)],
            None)


async def enter(c, room, nick, history=None):
    """Joins; returns (others, self-presence, messages up to the subject)."""
    others, me = await mc_join(c, room, nick, history=history)
    if me["type"] == "error":
        raise Failure("%s could not enter %s: %s" % (c.boundjid, room,
                                                     mc_error(me)))
    msgs = []
    while True:
        m = await mc_next(c.messages, lambda m: mc_from(m).split("/")[0] ==
                          room, "the subject after entering " + room)
        msgs.append(m)
        if m.xml.find("{jabber:client}subject") is not None and \
                m.xml.find("{jabber:client}body") is None:
            return others, me, msgs


def gc(c, room, body):
    c.send_raw("<message to='%s' type='groupchat'><body>%s</body></message>"
               % (room, body))


async def test(rig):
    for u in ("alice", "bob", "carol"):
        rig.adduser(u + "@localhost", "pencil")
    rig.start_xmppd()
    muc = rig.start_muc()
    a = await mc_login(rig, "alice@localhost/a", "pencil")
    b = await mc_login(rig, "bob@localhost/b", "pencil")
    c = await mc_login(rig, "carol@localhost/c", "pencil")
    await asyncio.sleep(0.3)
    mc_drain(a, b, c)

    await mc_create(a, KEEP, "Alice", {
        "muc#roomconfig_persistentroom": "1",
        "muc#roomconfig_membersonly": "1",
        "muc#roomconfig_roomname": "Kept Room"})
    _, err = await send_iq(a, "set", "<query xmlns='%s'><item jid="
                           "'bob@localhost' affiliation='member'/></query>"
                           % MUC_ADMIN, to=KEEP)
    check(err is None, "alice makes bob a member of the persistent room")
    await enter(b, KEEP, "Bob")
    await mc_create(c, GONE, "Carol")
    a.send_raw("<message to='%s' type='groupchat'><subject>kept subject"
               "</subject></message>" % KEEP)
    await mc_next(b.messages, lambda m: m["subject"] == "kept subject",
                  "the subject at bob")
    for n in range(4):
        gc(a if n % 2 == 0 else b, KEEP, "k%d" % n)
        await mc_next(a.messages, lambda m: m["body"] == "k%d" % n,
                      "k%d echoed" % n)
    # mid-conversation: one more message in flight, then kill -9
    gc(b, KEEP, "k4")
    muc.p.send_signal(signal.SIGKILL)
    muc.p.wait(10)
    muc.peer = True  # killed on purpose
    n_links = mc_log_count(rig.xmppd, LINK)
    rig.start("xmppd-muc", [MUC, "-c", rig.config])
    mc_wait_log_count(rig.xmppd, LINK, n_links + 1)
    passed("xmppd-muc, killed with SIGKILL, starts again and links up")

    feats, names, err = await room_info(c, KEEP)
    check(err is None and {"muc_persistent", "muc_membersonly"} <= feats,
          "the persistent room exists again with its configuration "
          "(persistent, members-only): %s %s" % (sorted(feats), err))
    check("Kept Room" in names, "and its name, 'Kept Room' (%s)" % names)
    _, _, err = await room_info(c, GONE)
    check(err == "item-not-found", "the temporary room is gone "
          "(item-not-found) got %s" % err)
    _, me = await mc_join(c, KEEP, "Carol")
    check(mc_error(me)[0] == "registration-required",
          "carol, not on the member list, is still kept out "
          "(registration-required) got %s" % (mc_error(me),))
    mc_drain(a, b)
    others, me, msgs = await enter(b, KEEP, "Bob", {"maxstanzas": "10"})
    check(mc_item(me).get("affiliation") == "member" and
          110 in mc_codes(me), "bob rejoins: a member, self-presence 110")
    check(others == [], "no ghost occupants after the kill: %s"
          % [mc_from(p) for p in others])
    hist = [m["body"] for m in msgs if m["body"]]
    check(hist[:4] == ["k0", "k1", "k2", "k3"] and
          hist in (["k0", "k1", "k2", "k3"], ["k0", "k1", "k2", "k3", "k4"]),
          "the history survived the kill (%s)" % hist)
    check(msgs[-1]["subject"] == "kept subject",
          "and the subject (%r)" % msgs[-1]["subject"])
    others, me, _ = await enter(a, KEEP, "Alice", {"maxstanzas": "0"})
    check(mc_item(me).get("affiliation") == "owner",
          "alice rejoins as owner (%s)" % mc_item(me))
    check([mc_from(p) for p in others] == [KEEP + "/Bob"],
          "alice sees bob only")
    res, err = await send_iq(a, "get", "<query xmlns='%s'><item affiliation="
                             "'member'/></query>" % MUC_ADMIN, to=KEEP)
    members = [] if err else [i.get("jid") for i in res.xml.iter(
        "{%s}item" % MUC_ADMIN)]
    check(members == ["bob@localhost"], "the member list survived: %s %s"
          % (members, err))
    gc(b, KEEP, "after kill")
    m = await mc_next(a.messages, lambda m: m["body"] == "after kill",
                      "a message after the restart")
    check(mc_from(m) == KEEP + "/Bob", "the rejoined occupants talk again")
    await mc_create(c, GONE2, "Carol")

    # -- xmppd restarts: the component relinks, occupants are let go --
    n_links = mc_log_count(rig.xmppd, LINK)
    n_ready = mc_log_count(rig.xmppd, " ready")
    rc = rig.xmppd.stop()
    check(rc == 0, "xmppd stops on SIGTERM (%s)" % rc)
    for cl in (a, b, c):
        cl.disconnect()
    rig.procs.remove(rig.xmppd)
    from xdtest import XMPPD
    rig.xmppd = rig.start("xmppd", [XMPPD, "-c", rig.config])
    mc_wait_log_count(rig.xmppd, " ready", n_ready + 1)
    mc_wait_log_count(rig.xmppd, LINK, n_links + 1, timeout=30)
    passed("xmppd-muc reconnects to the restarted xmppd by itself")

    a = await mc_login(rig, "alice@localhost/a", "pencil")
    b = await mc_login(rig, "bob@localhost/b", "pencil")
    c = await mc_login(rig, "carol@localhost/c", "pencil")
    await asyncio.sleep(0.3)
    mc_drain(a, b, c)
    others, me, _ = await enter(a, KEEP, "Alice", {"maxstanzas": "0"})
    check(110 in mc_codes(me) and mc_from(me) == KEEP + "/Alice",
          "alice re-enters: a fresh self-presence with 110")
    check(others == [], "no ghost occupants after the router restart "
          "(bob's and alice's old sessions are gone): %s"
          % [mc_from(p) for p in others])
    others, me, _ = await enter(b, KEEP, "Bob", {"maxstanzas": "0"})
    check([mc_from(p) for p in others] == [KEEP + "/Alice"],
          "bob re-enters and sees alice only")
    late = await mc_collect(a.presences, 0.3)
    check([mc_from(p) for p in late if p["type"] == "unavailable"] == [],
          "no unavailable presences for old sessions arrive late")
    _, _, err = await room_info(c, GONE2)
    check(err == "item-not-found", "the temporary room whose occupant's "
          "session ended is gone (item-not-found) got %s" % err)
    for cl in (a, b, c):
        cl.disconnect()
    await asyncio.sleep(0.3)


main(test)
