"""xmppd-muc, XEP-0045 moderator (section 8) and admin (section 9) use
cases, black box through several slixmpp clients: kicking (307, reason and
actor), who may kick whom, voice in a moderated room (grant, revoke, the
voice list, a visitor's groupchat refused), banning (301, the ban list, a
banned user's rejoin refused), the member, admin and owner lists with the
permission rules of sections 9 and 10, affiliation changes shown to the
occupants (321 when a member of a members-only room is removed), and the
last owner kept."""
import asyncio

from xdtest import (Failure, MUC_DOMAIN, NS_MUC_ADMIN, NS_MUC_OWNER,
                    admin_query, check, close_all, iq_xml, main, muc_codes,
                    muc_configure, muc_item, muc_join, muc_login, passed,
                    stanza_error)

PW = "pw"


def room(name):
    return "%s@%s" % (name, MUC_DOMAIN)


async def create(c, rjid, nick, config=None):
    """Creates rjid with c as owner: instant (empty submit) or reserved
    (the form, submitted with the given muc#roomconfig values)."""
    p = await muc_join(c, "%s/%s" % (rjid, nick))
    if stanza_error(p) or "201" not in muc_codes(p):
        raise Failure("creating %s: %s" % (rjid, p))
    if config:
        await muc_configure(c, rjid, config)
        return
    _, cond, ex = await iq_xml(c, "set", rjid, "<query xmlns='%s'><x xmlns="
                               "'jabber:x:data' type='submit'/></query>"
                               % NS_MUC_OWNER)
    if cond:
        raise Failure("configuring %s: %s" % (rjid, ex))


async def expect_iq(c, itype, rjid, payload, want, what):
    """An iq to the room whose outcome must be `want`: None (a result) or
    the error condition XEP-0045 names. Returns the reply."""
    reply, cond, ex = await iq_xml(c, itype, rjid, payload)
    check(cond == want, what if cond == want else "%s: expected %s, got %s%s"
          % (what, want or "a result", cond or "a result", ex))
    return reply


def from_is(occ):
    return lambda p: str(p["from"]) == occ


def pres_item(occ, **attrs):
    """Presence from occupant occ whose muc#user item has attrs."""
    def pred(p):
        if str(p["from"]) != occ:
            return False
        item = muc_item(p)[0]
        return all(item.get(k) == v for k, v in attrs.items())
    return pred


def list_items(reply):
    q = reply.xml.find("{%s}query" % NS_MUC_ADMIN)
    return [] if q is None else [dict(i.attrib) for i in q]


def jids_of(reply):
    return {i.get("jid", "").split("/")[0] for i in list_items(reply)}


async def expect_pres(c, pred, what):
    p = await c.pres.get(pred, what)
    passed(what)
    return p


def actor_is(actor, nick, bare):
    return actor is not None and (actor.get("nick") == nick or
                                  actor.get("jid", "").split("/")[0] == bare)


async def kick_and_roles(a, b, c, d, f):
    """Section 8.2 and the affiliation hierarchy of kicks."""
    r = room("kick")
    await create(a, r, "alice")
    for cl, nick in ((b, "bob"), (c, "carol"), (d, "dave")):
        p = await muc_join(cl, "%s/%s" % (r, nick))
        check(not stanza_error(p) and muc_item(p)[0].get("role") ==
              "participant", "%s enters the open room as a participant"
              % nick)

    await expect_iq(d, "set", r, admin_query(
        {"nick": "carol", "role": "none", "reason": "no"}), "forbidden",
        "8 (intro: requests not from a moderator MUST get <forbidden/>): "
        "a participant (dave) kicking carol: <forbidden/>")

    # bob admin, carol member and moderator.
    await expect_iq(a, "set", r, admin_query(
        {"jid": "bob@localhost", "affiliation": "admin"}), None,
        "10.6: the owner makes bob an admin")
    await expect_pres(c, pres_item(r + "/bob", affiliation="admin"),
                      "5.2.2: the occupants see bob's affiliation admin")
    await expect_iq(a, "set", r, admin_query(
        {"jid": "carol@localhost", "affiliation": "member"}), None,
        "9.3: the owner makes carol a member")
    await expect_pres(d, pres_item(r + "/carol", affiliation="member"),
                      "9.3: the occupants see carol's affiliation member")
    await expect_iq(a, "set", r, admin_query(
        {"nick": "carol", "role": "moderator"}), None,
        "9.6: the owner grants carol (member) moderator")
    await expect_pres(d, pres_item(r + "/carol", role="moderator"),
                      "9.6: the occupants see carol's role moderator")
    await expect_iq(c, "set", r, admin_query(
        {"nick": "bob", "role": "none"}), "not-allowed",
        "8.2: a member moderator (carol) kicking an admin: <not-allowed/>")
    await expect_iq(c, "set", r, admin_query(
        {"nick": "alice", "role": "none"}), "not-allowed",
        "8.2: a member moderator (carol) kicking the owner: <not-allowed/>")
    await expect_iq(b, "set", r, admin_query(
        {"nick": "alice", "role": "none"}), "not-allowed",
        "8.2: an admin (bob) kicking the owner: <not-allowed/>")

    for cl in (a, b, c, d):
        cl.pres.clear()
    await expect_iq(b, "set", r, admin_query(
        {"nick": "dave", "role": "none", "reason": "flooding"}), None,
        "8.2: the admin bob kicks dave, with a reason")
    p = await expect_pres(d, lambda p: from_is(r + "/dave")(p) and
                          p["type"] == "unavailable",
                          "8.2: dave gets his own unavailable")
    item, actor, reason = muc_item(p)
    check("307" in muc_codes(p), "8.2: dave's unavailable has status 307")
    check(item.get("role") == "none", "8.2: with role none")
    check(reason == "flooding", "8.2: with the reason")
    check(actor_is(actor, "bob", "bob@localhost"),
          "8.2: with the actor (bob)")
    for cl, who in ((a, "alice"), (b, "bob"), (c, "carol")):
        p = await expect_pres(cl, lambda p: from_is(r + "/dave")(p) and
                              p["type"] == "unavailable",
                              "8.2: %s sees dave go" % who)
        item, actor, reason = muc_item(p)
        check("307" in muc_codes(p) and item.get("role") == "none",
              "8.2: %s's copy has 307 and role none" % who)
        check(reason == "flooding" and actor_is(actor, "bob",
                                                "bob@localhost"),
              "8.2: %s's copy has the reason and the actor" % who)

    # Frank, then a ban (section 9.1).
    p = await muc_join(f, r + "/frank")
    check(not stanza_error(p), "frank enters")
    for cl in (a, b, c, f):
        cl.pres.clear()
    await expect_iq(b, "set", r, admin_query(
        {"jid": "frank@localhost", "affiliation": "member"}), None,
        "9.3: the admin bob makes frank (present) a member")
    await expect_pres(f, pres_item(r + "/frank", affiliation="member"),
                      "9.3: frank sees his own affiliation member")
    await expect_pres(a, pres_item(r + "/frank", affiliation="member"),
                      "9.3: alice sees frank's affiliation member")
    await expect_iq(b, "set", r, admin_query(
        {"jid": "frank@localhost", "affiliation": "outcast",
         "reason": "spam"}), None, "9.1: the admin bob bans frank")
    p = await expect_pres(f, lambda p: from_is(r + "/frank")(p) and
                          p["type"] == "unavailable",
                          "9.1: frank gets his own unavailable")
    item, actor, reason = muc_item(p)
    check("301" in muc_codes(p), "9.1: with status 301")
    check(item.get("affiliation") == "outcast" and item.get("role") ==
          "none", "9.1: affiliation outcast, role none")
    check(reason == "spam", "9.1: with the reason")
    p = await expect_pres(c, lambda p: from_is(r + "/frank")(p) and
                          p["type"] == "unavailable",
                          "9.1: carol sees frank go")
    check("301" in muc_codes(p) and muc_item(p)[0].get("affiliation") ==
          "outcast", "9.1: carol's copy has 301 and affiliation outcast")
    p = await muc_join(f, r + "/frank")
    check(stanza_error(p) == "forbidden",
          "7.2.7: the banned frank rejoining: <forbidden/> (got %s)"
          % stanza_error(p))
    reply = await expect_iq(b, "get", r, admin_query(
        {"affiliation": "outcast"}), None, "9.2: the admin gets the ban list")
    check(jids_of(reply) == {"frank@localhost"} and
          all(i.get("affiliation") == "outcast"
              for i in list_items(reply)),
          "9.2: the ban list is frank, affiliation outcast")
    await expect_iq(c, "get", r, admin_query({"affiliation": "outcast"}),
                    "forbidden", "9.2: a member (carol) asking for the ban "
                    "list: <forbidden/>")
    await expect_iq(b, "set", r, admin_query(
        {"jid": "alice@localhost", "affiliation": "outcast"}),
        "not-allowed", "9.1: an admin (bob) banning an owner: "
        "<not-allowed/>")
    # A second admin, whom bob may not touch.
    await expect_iq(a, "set", r, admin_query(
        {"jid": "eve@localhost", "affiliation": "admin"}), None,
        "10.6: the owner makes eve (absent) an admin")
    await expect_iq(b, "set", r, admin_query(
        {"jid": "eve@localhost", "affiliation": "member"}), "not-allowed",
        "9.x: an admin (bob) demoting another admin: <not-allowed/>")
    await expect_iq(b, "set", r, admin_query(
        {"jid": "eve@localhost", "affiliation": "outcast"}), "not-allowed",
        "9.1: an admin (bob) banning another admin: <not-allowed/>")
    await expect_iq(b, "set", r, admin_query(
        {"jid": "alice@localhost", "affiliation": "none"}), "not-allowed",
        "9.x: an admin (bob) removing an owner's affiliation: "
        "<not-allowed/>")
    # Unban.
    await expect_iq(b, "set", r, admin_query(
        {"jid": "frank@localhost", "affiliation": "none"}), None,
        "9.2: bob lifts frank's ban")
    reply = await expect_iq(b, "get", r, admin_query(
        {"affiliation": "outcast"}), None, "9.2: the ban list again")
    check(jids_of(reply) == set(), "9.2: the ban list is now empty")
    p = await muc_join(f, r + "/frank")
    check(not stanza_error(p), "frank may enter again")
    return r


async def lists(a, b, c, d, f, r):
    """Sections 9.5, 10.3-10.8: the member, admin and owner lists."""
    await expect_iq(b, "set", r, admin_query(
        {"jid": "dave@localhost", "affiliation": "member"}), None,
        "9.5: the admin bob adds dave (absent) to the member list")
    reply = await expect_iq(b, "get", r, admin_query(
        {"affiliation": "member"}), None, "9.5: the admin gets the members")
    check(jids_of(reply) == {"carol@localhost", "dave@localhost"},
          "9.5: the member list is carol and dave (got %s)" % jids_of(reply))

    # getmemberlist decides who else may ask.
    await muc_configure(a, r, {"muc#roomconfig_getmemberlist":
                               ["moderator"]})
    await expect_iq(f, "get", r, admin_query({"affiliation": "member"}),
                    "forbidden", "9.5: a participant (frank) asking for "
                    "the member list, getmemberlist=moderator: <forbidden/>")
    await muc_configure(a, r, {"muc#roomconfig_getmemberlist":
                               ["moderator", "participant"]})
    reply = await expect_iq(f, "get", r, admin_query({"affiliation":
                                                      "member"}), None,
                            "9.5: frank may once getmemberlist includes "
                            "participant")
    check(jids_of(reply) == {"carol@localhost", "dave@localhost"},
          "9.5: and gets the same list")

    # Admin list: owners only.
    await expect_iq(a, "set", r, admin_query(
        {"jid": "dave@localhost", "affiliation": "admin"}), None,
        "10.6: the owner makes dave an admin")
    reply = await expect_iq(a, "get", r, admin_query(
        {"affiliation": "admin"}), None, "10.8: the owner gets the admins")
    check(jids_of(reply) == {"bob@localhost", "dave@localhost",
                             "eve@localhost"},
          "10.8: the admin list is bob, dave, eve (got %s)" % jids_of(reply))
    await expect_iq(b, "set", r, admin_query(
        {"jid": "frank@localhost", "affiliation": "admin"}), "forbidden",
        "10.6: an admin (bob) granting admin: <forbidden/>")
    await expect_iq(c, "set", r, admin_query(
        {"jid": "carol@localhost", "affiliation": "owner"}), "forbidden",
        "10.3: a member (carol) changing the owner list: <forbidden/>")
    await expect_iq(c, "get", r, admin_query({"affiliation": "owner"}),
                    "forbidden", "10.5: a member (carol) asking for the "
                    "owner list: <forbidden/>")
    await expect_iq(a, "set", r, admin_query(
        {"jid": "dave@localhost", "affiliation": "member"}), None,
        "10.7: the owner takes dave's admin back (member)")
    reply = await expect_iq(a, "get", r, admin_query(
        {"affiliation": "admin"}), None, "10.8: the admin list again")
    check(jids_of(reply) == {"bob@localhost", "eve@localhost"},
          "10.8: dave is no longer an admin (got %s)" % jids_of(reply))

    # Owner list.
    for cl in (a, b, c, f):
        cl.pres.clear()
    await expect_iq(a, "set", r, admin_query(
        {"jid": "bob@localhost", "affiliation": "owner"}), None,
        "10.3: the owner makes bob an owner")
    await expect_pres(b, pres_item(r + "/bob", affiliation="owner"),
                      "10.3: bob sees his affiliation owner")
    await expect_pres(f, pres_item(r + "/bob", affiliation="owner"),
                      "10.3: frank sees bob's affiliation owner")
    reply = await expect_iq(b, "get", r, admin_query(
        {"affiliation": "owner"}), None, "10.5: bob gets the owner list")
    check(jids_of(reply) == {"alice@localhost", "bob@localhost"},
          "10.5: the owners are alice and bob (got %s)" % jids_of(reply))
    await expect_iq(b, "set", r, admin_query(
        {"jid": "alice@localhost", "affiliation": "admin"}), None,
        "10.4: the owner bob makes the owner alice an admin")
    await expect_iq(a, "set", r, admin_query(
        {"jid": "alice@localhost", "affiliation": "owner"}),
        "forbidden", "10.3: alice, now admin, making herself owner: "
        "<forbidden/>")
    await expect_iq(b, "set", r, admin_query(
        {"jid": "bob@localhost", "affiliation": "admin"}), "conflict",
        "10.4/10.5: the last owner (bob) stepping down: <conflict/>")
    reply = await expect_iq(b, "get", r, admin_query(
        {"affiliation": "owner"}), None, "10.5: the owner list again")
    check(jids_of(reply) == {"bob@localhost"},
          "10.5: bob is still the owner (got %s)" % jids_of(reply))
    await expect_iq(b, "set", r, admin_query(
        {"jid": "alice@localhost", "affiliation": "owner"}), None,
        "10.3: bob gives alice ownership back")


async def voice(a, b, e, g):
    """Sections 8.3-8.5 in a moderated room; 7.4 a visitor's message."""
    r = room("stage")
    await create(a, r, "alice", {"muc#roomconfig_moderatedroom": "1"})
    await expect_iq(a, "set", r, admin_query(
        {"jid": "bob@localhost", "affiliation": "admin"}), None,
        "10.6: bob admin of the moderated room")
    p = await muc_join(b, r + "/bob")
    check(muc_item(p)[0].get("role") == "moderator",
          "5.1.2: an admin enters as a moderator")
    p = await muc_join(e, r + "/eve")
    check(muc_item(p)[0].get("role") == "visitor",
          "5.1.2: eve (no affiliation) enters the moderated room as visitor")
    p = await muc_join(g, r + "/gina")
    check(muc_item(p)[0].get("role") == "visitor", "gina too")

    e.msgs.clear()
    e.send_raw("<message to='%s' type='groupchat' id='v1'><body>may I?"
               "</body></message>" % r)
    m = await e.msgs.get(lambda m: m["id"] == "v1", "eve's message back")
    check(stanza_error(m) == "forbidden",
          "7.4: a visitor's groupchat in a moderated room: <forbidden/> "
          "(got %s)" % (stanza_error(m) or m))

    for cl in (a, b, e):
        cl.pres.clear()
    await expect_iq(b, "set", r, admin_query(
        {"nick": "eve", "role": "participant", "reason": "go ahead"}), None,
        "8.3: the moderator bob grants eve voice")
    for cl, who in ((e, "eve"), (a, "alice")):
        p = await expect_pres(cl, pres_item(r + "/eve", role="participant"),
                              "8.3: %s sees eve's role participant" % who)
        check(muc_item(p)[2] == "go ahead",
              "8.3: %s's copy carries the reason" % who)
    a.msgs.clear()
    e.send_raw("<message to='%s' type='groupchat' id='v2'><body>thanks"
               "</body></message>" % r)
    m = await a.msgs.get(lambda m: m["body"] == "thanks",
                         "eve's message at alice")
    check(str(m["from"]) == r + "/eve", "8.3: with voice eve's message "
          "reaches the room")

    reply = await expect_iq(b, "get", r, admin_query({"role": "participant"}),
                            None, "8.5: the moderator gets the voice list")
    items = list_items(reply)
    check([i.get("nick") for i in items] == ["eve"] and
          all(i.get("role") == "participant" for i in items),
          "8.5: the voice list is eve, role participant (got %s)" % items)
    await expect_iq(g, "get", r, admin_query({"role": "participant"}),
                    "forbidden", "8.5: a visitor asking for the voice list: "
                    "<forbidden/>")

    await expect_iq(e, "set", r, admin_query(
        {"nick": "gina", "role": "participant"}), "forbidden",
        "8 (intro): a participant (eve) granting voice: <forbidden/>")

    for cl in (a, e):
        cl.pres.clear()
    await expect_iq(b, "set", r, admin_query(
        {"nick": "eve", "role": "visitor", "reason": "enough"}), None,
        "8.4: bob revokes eve's voice")
    for cl, who in ((e, "eve"), (a, "alice")):
        p = await expect_pres(cl, pres_item(r + "/eve", role="visitor"),
                              "8.4: %s sees eve's role visitor" % who)
        check(muc_item(p)[2] == "enough",
              "8.4: %s's copy carries the reason" % who)
    e.send_raw("<message to='%s' type='groupchat' id='v3'><body>but"
               "</body></message>" % r)
    m = await e.msgs.get(lambda m: m["id"] == "v3", "eve's message back")
    check(stanza_error(m) == "forbidden",
          "7.4: a visitor again: <forbidden/>")
    reply = await expect_iq(b, "get", r, admin_query({"role": "participant"}),
                            None, "8.5: the voice list again")
    check(list_items(reply) == [], "8.5: the voice list is empty")
    await expect_iq(a, "set", r, admin_query(
        {"nick": "bob", "role": "visitor"}), "not-allowed",
        "8.4: the owner revoking an admin's voice: <not-allowed/>")


async def members_only_removal(a, c, d):
    """9.4: a member removed from a members-only room leaves with 321."""
    r = room("club")
    await create(a, r, "alice", {"muc#roomconfig_membersonly": "1"})
    await expect_iq(a, "set", r, admin_query(
        {"jid": "carol@localhost", "affiliation": "member"}), None,
        "9.3: carol member of the members-only room")
    p = await muc_join(c, r + "/carol")
    check(not stanza_error(p), "the member carol enters")
    p = await muc_join(d, r + "/dave")
    check(stanza_error(p) == "registration-required",
          "7.2.5: a non-member entering a members-only room: "
          "<registration-required/> (got %s)" % stanza_error(p))
    for cl in (a, c):
        cl.pres.clear()
    await expect_iq(a, "set", r, admin_query(
        {"jid": "carol@localhost", "affiliation": "none"}), None,
        "9.4: the owner revokes carol's membership")
    for cl, who in ((c, "carol"), (a, "alice")):
        p = await expect_pres(cl, lambda p: from_is(r + "/carol")(p) and
                              p["type"] == "unavailable",
                              "9.4: %s sees carol removed" % who)
        check("321" in muc_codes(p) and muc_item(p)[0].get("affiliation")
              == "none", "9.4: %s's copy: status 321, affiliation none"
              % who)


async def two_nicks(rig, a, g):
    """One account in a room under two nicks (from two resources): an
    affiliation change reaches both occupants."""
    r = room("twonicks")
    await create(a, r, "alice")
    g2 = await muc_login(rig, "gina@localhost/t2", PW)
    g2.send_presence()
    for cl, nick in ((g, "gina"), (g2, "gina2")):
        p = await muc_join(cl, "%s/%s" % (r, nick))
        check(not stanza_error(p), "gina enters as %s" % nick)
    a.pres.clear()
    await expect_iq(a, "set", r, admin_query(
        {"jid": "gina@localhost", "affiliation": "admin"}), None,
        "10.6: the owner makes gina (in the room as gina and gina2) an admin")
    for nick in ("gina", "gina2"):
        await expect_pres(a, pres_item("%s/%s" % (r, nick),
                                       affiliation="admin", role="moderator"),
                          "5.2.2: both of gina's occupants (%s) become admin "
                          "and moderator" % nick)
    await expect_iq(a, "set", r, admin_query(
        {"jid": "gina@localhost", "affiliation": "outcast"}), None,
        "9.1: the owner bans gina")
    for nick in ("gina", "gina2"):
        p = await expect_pres(a, lambda p: str(p["from"]) == "%s/%s" % (
            r, nick) and p["type"] == "unavailable",
            "9.1: both of gina's occupants (%s) leave" % nick)
        check("301" in muc_codes(p), "9.1: %s leaves with 301" % nick)
    await close_all(g2)


async def test(rig):
    users = ("alice", "bob", "carol", "dave", "eve", "frank", "gina")
    for u in users:
        rig.adduser(u + "@localhost", PW)
    rig.start_xmppd()
    rig.start_muc()
    cl = await asyncio.gather(*[muc_login(rig, u + "@localhost/t", PW)
                                for u in users])
    for x in cl:
        x.send_presence()
    a, b, c, d, e, f, g = cl
    r = await kick_and_roles(a, b, c, d, f)
    await lists(a, b, c, d, f, r)
    await voice(a, b, e, g)
    await members_only_removal(a, c, d)
    await two_nicks(rig, a, g)
    await close_all(*cl)


if __name__ == "__main__":
    main(test)
