"""xmppdctl rooms, create_room and destroy_room: xmppd-muc's admin ad-hoc
commands, run through the router's control socket as [muc]'s first admin:
the rooms are listed, a room is created for an owner (listed, in disco,
entered with the owner affiliation; a second create is a conflict), a room
is destroyed (its occupant is told, with the reason),
an unknown room is an error; with xmppd-muc stopped the command says that
the service did not answer, and without xmppd that it does not run."""
import socket

from xdtest import (MUC_DOMAIN, check, iq_xml, main, mc_create, mc_item,
                    mc_join, mc_leave, mc_login, mc_next, logout)

DISCO_ITEMS = "http://jabber.org/protocol/disco#items"


async def create_room(rig, a):
    """create_room for alice: listed, in disco#items with its name, alice
    enters it as its owner; again: conflict; a foreign JID: refused;
    destroy_room removes it."""
    made = "made@" + MUC_DOMAIN
    r = rig.ctl("create_room", "made", "alice@localhost", "--name",
                "Made here")
    check(r.returncode == 0 and "created" in r.stdout,
          "create_room: %r %r" % (r.stdout, r.stderr))
    r = rig.ctl("rooms")
    check(made in r.stdout.split(), "rooms lists it: %r" % r.stdout)
    reply, cond, ex = await iq_xml(a, "get", MUC_DOMAIN,
                                   "<query xmlns='%s'/>" % DISCO_ITEMS)
    items = {i.get("jid"): i.get("name") for i in reply.xml.iter(
        "{%s}item" % DISCO_ITEMS)} if not cond else {}
    check(items.get(made) == "Made here",
          "it is in disco#items with its name: %s" % ex)
    _, me = await mc_join(a, made, "Alice")
    check(me["type"] != "error" and mc_item(me).get("affiliation") ==
          "owner", "alice enters it as its owner: %s" % me)
    await mc_leave(a, made, "Alice")
    r = rig.ctl("rooms")
    check(made in r.stdout.split(), "it stays after she leaves (persistent)"
          ": %r" % r.stdout)
    r = rig.ctl("create_room", "made")
    check(r.returncode == 1 and "conflict" in r.stderr,
          "a second create_room: conflict: %r %r" % (r.stdout, r.stderr))
    r = rig.ctl("create_room", "x@elsewhere.example")
    check(r.returncode == 1 and "bad" in r.stderr,
          "a room of another domain is refused: %r" % r.stderr)
    r = rig.ctl("create_room", "made", "--bogus")
    check(r.returncode == 2, "an unknown option is a usage error: %r"
          % r.stderr)
    r = rig.ctl("destroy_room", "made")
    check(r.returncode == 0, "destroy_room: %r" % r.stderr)
    r = rig.ctl("rooms")
    check(made not in r.stdout.split(), "it is gone: %r" % r.stdout)


async def test(rig):
    r = rig.ctl("rooms")
    check(r.returncode == 1 and "not running" in r.stderr,
          "without xmppd: %r" % r.stderr)
    rig.start_xmppd()
    muc = rig.start_muc()
    rig.adduser("alice@localhost", "pw")
    a = await mc_login(rig, "alice@localhost/a", "pw")
    lobby = "lobby@" + MUC_DOMAIN
    await mc_create(a, lobby, "Alice")
    await mc_create(a, "quiet@" + MUC_DOMAIN, "Alice")

    r = rig.ctl("rooms")
    check(r.returncode == 0 and sorted(r.stdout.split()) ==
          [lobby, "quiet@" + MUC_DOMAIN],
          "rooms lists them: %r %r" % (r.stdout, r.stderr))
    await create_room(rig, a)
    r = rig.ctl("destroy_room", "lobby", "moving", "to", "quiet")
    check(r.returncode == 0 and "destroyed" in r.stdout,
          "destroy_room: %r %r" % (r.stdout, r.stderr))
    gone = await mc_next(
        a.presences, lambda p: p["from"].bare == lobby and p["type"] ==
        "unavailable", "the occupant is told")
    check("moving to quiet" in str(gone), "with the reason: %s" % gone)
    r = rig.ctl("rooms")
    check(r.stdout.split() == ["quiet@" + MUC_DOMAIN],
          "the room is gone: %r" % r.stdout)
    r = rig.ctl("destroy_room", "nosuch@" + MUC_DOMAIN)
    check(r.returncode == 1 and "No such room" in r.stderr,
          "an unknown room: %r" % r.stderr)
    # A control client that goes away before the answer: the answer finds
    # nobody, and the next command works.
    s = socket.socket(socket.AF_UNIX)
    s.connect(rig.xmppd_keys["control_socket"])
    s.sendall(b"command admin@localhost %s urn:xmppd:muc:list-rooms\n"
              % MUC_DOMAIN.encode())
    s.close()
    r = rig.ctl("rooms")
    check(r.returncode == 0 and r.stdout.split() == ["quiet@" + MUC_DOMAIN],
          "a client gone while waiting is forgotten: %r" % r.stderr)
    await logout(a)

    muc.stop()
    rig.procs.remove(muc)
    r = rig.ctl("rooms")
    check(r.returncode == 1 and "service-unavailable" in r.stderr,
          "xmppd-muc stopped: %r" % r.stderr)


main(test)
