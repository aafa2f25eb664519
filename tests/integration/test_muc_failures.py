"""xmppd-muc when occupants fail or ask for more: a voice request that a
moderator approves (XEP-0045 8.6), an occupant whose client bounces an error
leaves with status 333 (7.14 / 8.4), a client whose connection drops
without leaving is removed through the router's directed presence
(RFC 6121 4.6), and the service's room limit (max_rooms)."""
import asyncio

from xdtest import MUC_DOMAIN, MUC_REQUEST as REQUEST, XDATA, check, main, \
    mc_codes, mc_create, mc_drain, mc_error, mc_from, mc_item, mc_join, \
    mc_login, mc_next, mc_request_voice

ROOM = "fail@" + MUC_DOMAIN
STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def presence_of(nick, ptype=None):
    return lambda p: mc_from(p) == ROOM + "/" + nick and \
        (ptype is None or p["type"] == ptype)


async def test(rig):
    for u in ("alice", "bob", "carol"):
        rig.adduser(u + "@localhost", "pw")
    rig.start_xmppd()
    rig.start_muc(max_rooms=2)
    a = await mc_login(rig, "alice@localhost/a", "pw")
    b = await mc_login(rig, "bob@localhost/b", "pw")
    c = await mc_login(rig, "carol@localhost/c", "pw")
    await mc_create(a, ROOM, "Alice", {"muc#roomconfig_moderatedroom": "1"})
    _, me_b = await mc_join(b, ROOM, "Bob")
    check(mc_item(me_b).get("role") == "visitor",
          "bob enters the moderated room as a visitor (%s)" % mc_item(me_b))
    await mc_join(c, ROOM, "Carol")
    mc_drain(a, b, c)

    # -- 8.6: bob asks for voice, alice approves with the same form --
    mc_request_voice(b, ROOM)
    req = await mc_next(a.messages, lambda m: m.xml.find(
        "{%s}x" % XDATA) is not None, "the voice request at alice")
    fields = {f.get("var"): f.findtext("{%s}value" % XDATA)
              for f in req.xml.find("{%s}x" % XDATA)
              .findall("{%s}field" % XDATA)}
    check(fields.get("FORM_TYPE") == REQUEST and
          fields.get("muc#roomnick") == "Bob" and
          (fields.get("muc#jid") or "").startswith("bob@localhost"),
          "the request names bob's nick and JID (%s)" % fields)
    a.send_raw("<message to='%s'><x xmlns='%s' type='submit'>"
               "<field var='FORM_TYPE'><value>%s</value></field>"
               "<field var='muc#role'><value>participant</value></field>"
               "<field var='muc#jid'><value>%s</value></field>"
               "<field var='muc#roomnick'><value>Bob</value></field>"
               "<field var='muc#request_allow'><value>true</value></field>"
               "</x></message>" % (ROOM, XDATA, REQUEST, fields["muc#jid"]))
    p = await mc_next(c.presences, presence_of("Bob"),
                      "bob's new role, seen by carol")
    check(mc_item(p).get("role") == "participant",
          "approved: bob is a participant for everyone (%s)" % mc_item(p))
    b.send_raw("<message to='%s' type='groupchat' id='v1'><body>thanks"
               "</body></message>" % ROOM)
    m = await mc_next(c.messages, lambda m: m["id"] == "v1",
                      "bob's first words")
    check(m["type"] == "groupchat", "and bob may speak now")
    mc_drain(a, b, c)

    # -- 333: carol's client bounces what the room sent it --
    c.send_raw("<message to='%s/Carol' type='error'><error type='cancel'>"
               "<service-unavailable xmlns='%s'/></error></message>"
               % (ROOM, STANZAS))
    p = await mc_next(a.presences, presence_of("Carol", "unavailable"),
                      "carol removed after her client's error")
    check(333 in mc_codes(p) and mc_item(p).get("role") == "none",
          "she leaves with status 333 and role none (%s)"
          % sorted(mc_codes(p)))
    c.send_raw("<message to='%s' type='groupchat' id='c1'><body>still here?"
               "</body></message>" % ROOM)
    m = await mc_next(c.messages, lambda m: m["id"] == "c1",
                      "carol's message after removal")
    check(mc_error(m)[0] == "not-acceptable",
          "carol is no occupant any more: not-acceptable (%s)"
          % (mc_error(m),))
    mc_drain(a, b, c)

    # -- a connection lost without unavailable: the router tells the room --
    b.abort()
    p = await mc_next(a.presences, presence_of("Bob", "unavailable"),
                      "bob leaving when his connection drops")
    check(mc_item(p).get("role") == "none" and 333 not in mc_codes(p),
          "bob's session ended: he leaves like any leaver (%s)"
          % sorted(mc_codes(p)))

    # -- max_rooms = 2: the third room is refused --
    await mc_create(a, "second@" + MUC_DOMAIN, "Alice")
    _, me = await mc_join(a, "third@" + MUC_DOMAIN, "Alice")
    check(me["type"] == "error" and
          mc_error(me) == ("resource-constraint", "wait"),
          "a room past max_rooms: resource-constraint, wait (%s)"
          % (mc_error(me),))

    for cl in (a, c):
        cl.disconnect()
    await asyncio.sleep(0.3)


main(test)
