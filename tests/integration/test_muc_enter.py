"""xmppd-muc, entering and leaving rooms (XEP-0045 section 7.1-7.2, 7.6,
7.7, 7.14, 6 (disco), 10.1 (creation), XEP-0410 self-ping, XEP-0421
occupant ids), as clients meet it: locked new rooms, passwords,
members-only, bans, nick conflicts, one nick from two resources, status
codes, what presence reveals in semi-anonymous and non-anonymous rooms,
presence updates, nick changes, leaving, full rooms, disco (the room list
in XEP-0059 pages), temporary rooms vanishing."""
import asyncio

from xdtest import Failure, MUC_DOMAIN, MUC_NS, XDATA, check, passed, \
    mc_collect, mc_drain, main, mc_affiliate, mc_codes, mc_configure, \
    mc_create, mc_item, mc_join, mc_leave, mc_login, mc_next, \
    mc_occupant_id, mc_from, send_iq, mc_error

ROOM = "room1@" + MUC_DOMAIN
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
RSM = "http://jabber.org/protocol/rsm"
PAGE = 3  # max_disco_items of this test's service


def presence_from(c, jid, ptype=None):
    return lambda p: mc_from(p) == jid and \
        (ptype is None or p["type"] == ptype)


async def disco_info(c, jid):
    res, err = await send_iq(c, "get", "<query xmlns='%s'/>" % DISCO_INFO,
                             to=jid)
    if err:
        return None, err
    q = res.xml.find("{%s}query" % DISCO_INFO)
    ids = [(i.get("category"), i.get("type"), i.get("name"))
           for i in q.findall("{%s}identity" % DISCO_INFO)]
    feats = {f.get("var") for f in q.findall("{%s}feature" % DISCO_INFO)}
    form = {}
    for x in q.findall("{%s}x" % XDATA):
        for f in x.findall("{%s}field" % XDATA):
            form[f.get("var")] = [v.text or "" for v in
                                  f.findall("{%s}value" % XDATA)]
    return (ids, feats, form), None


async def disco_items(c, jid):
    res, err = await send_iq(c, "get", "<query xmlns='%s'/>" % DISCO_ITEMS,
                             to=jid)
    if err:
        return None, err
    q = res.xml.find("{%s}query" % DISCO_ITEMS)
    return [i.get("jid") for i in q.findall("{%s}item" % DISCO_ITEMS)], None


async def rooms_page(c, rsm=""):
    """One page of the service's rooms: ([room JIDs], <first/>, <last/>,
    <count/>), the last three None without a <set/>."""
    res, err = await send_iq(c, "get", "<query xmlns='%s'>%s</query>"
                             % (DISCO_ITEMS, rsm), to=MUC_DOMAIN)
    if err:
        raise Failure("disco#items of the service: %s" % err)
    q = res.xml.find("{%s}query" % DISCO_ITEMS)
    s = q.find("{%s}set" % RSM)
    return ([i.get("jid") for i in q.findall("{%s}item" % DISCO_ITEMS)],) + \
        tuple(None if s is None else s.findtext("{%s}%s" % (RSM, t))
              for t in ("first", "last", "count"))


async def ping(c, jid):
    return await send_iq(c, "get", "<ping xmlns='urn:xmpp:ping'/>", to=jid)


async def test(rig):
    for u in ("alice", "bob", "carol", "dave"):
        rig.adduser(u + "@localhost", "pencil")
    rig.start_xmppd()
    rig.start_muc(max_disco_items=PAGE)
    a = await mc_login(rig, "alice@localhost/a", "pencil")
    b = await mc_login(rig, "bob@localhost/b", "pencil")
    c = await mc_login(rig, "carol@localhost/c", "pencil")
    d = await mc_login(rig, "dave@localhost/d", "pencil")
    await asyncio.sleep(0.3)
    mc_drain(a, b, c, d)

    # -- the service (XEP-0045 6.1/6.2) --
    info, err = await disco_info(a, MUC_DOMAIN)
    check(err is None and ("conference", "text") in
          [i[:2] for i in info[0]] and MUC_NS in info[1],
          "the service: identity conference/text and the muc feature "
          "(6.1)")

    # -- creation (10.1.1): 201, locked until configured --
    others, me = await mc_join(a, ROOM, "Alice")
    check(me["type"] != "error" and others == [],
          "alice creates room1 (no one else in it)")
    check({110, 201} <= mc_codes(me),
          "creation self-presence has 110 and 201 (10.1.1) %s"
          % sorted(mc_codes(me)))
    check(mc_item(me).get("affiliation") == "owner" and
          mc_item(me).get("role") == "moderator",
          "the creator is owner and moderator (%s)" % mc_item(me))
    _, me_b = await mc_join(b, ROOM, "Bob")
    check(me_b["type"] == "error" and
          mc_error(me_b) == ("item-not-found", "cancel"),
          "entering a locked room: item-not-found, cancel (7.2 'Locked Room', 10.1.1)"
          " got %s" % (mc_error(me_b),))
    res, err = await mc_configure(a, ROOM)
    check(err is None, "the owner makes it an instant room (10.1.2): "
          "empty submit gets a result (%s)" % err)

    # -- entering (7.2.2/7.2.3), semi-anonymous by default --
    mc_drain(a)
    others, me_b = await mc_join(b, ROOM, "Bob")
    check(me_b["type"] != "error", "bob enters the unlocked room")
    check([mc_from(p) for p in others] == [ROOM + "/Alice"],
          "bob first gets the presence of the existing occupant, alice "
          "(7.2 'Presence Broadcast')")
    item = mc_item(others[0])
    check(item.get("role") == "moderator" and
          item.get("affiliation") == "owner",
          "alice's presence carries role and affiliation (%s)" % item)
    check("jid" not in item, "semi-anonymous room: bob (participant) does "
          "not see alice's real JID (7.2 'Semi-Anonymous Rooms')")
    check(mc_from(me_b) == ROOM + "/Bob" and 110 in mc_codes(me_b),
          "bob's self-presence, last, has status 110 (7.2 'Presence Broadcast')")
    check(201 not in mc_codes(me_b) and 100 not in mc_codes(me_b),
          "no 201 (room exists) and no 100 (semi-anonymous) for bob (%s)"
          % sorted(mc_codes(me_b)))
    check(170 in mc_codes(me_b), "status 170: the room is logged "
          "(archived by default) (7.2 'Room Logging')")
    check(mc_item(me_b).get("role") == "participant" and
          mc_item(me_b).get("affiliation") == "none",
          "bob is participant, affiliation none (%s)" % mc_item(me_b))
    seen_b = await mc_next(a.presences, presence_from(a, ROOM + "/Bob"),
                               "alice sees bob enter")
    check((mc_item(seen_b).get("jid") or "").startswith(
        "bob@localhost/b"), "alice (moderator) sees bob's real JID in a "
          "semi-anonymous room (7.2 'Semi-Anonymous Rooms'): %s" % mc_item(seen_b))
    oid_b, oid_a = mc_occupant_id(me_b), mc_occupant_id(others[0])
    check(oid_b is not None and oid_a is not None and oid_a != oid_b,
          "XEP-0421: presences carry occupant ids, different for alice "
          "and bob (%s, %s)" % (oid_a, oid_b))
    check(mc_occupant_id(seen_b) == oid_b,
          "bob's occupant id is the same for every recipient")

    # -- nick conflict (7.2 'Nickname Conflict') --
    _, me_c = await mc_join(c, ROOM, "Bob")
    check(mc_error(me_c) == ("conflict", "cancel"),
          "carol asking for bob's nick: conflict, cancel (7.2 'Nickname Conflict') got %s"
          % (mc_error(me_c),))

    # -- XEP-0410 self-ping --
    _, err = await ping(b, ROOM + "/Bob")
    check(err is None, "self-ping to bob's own occupant JID: result while "
          "joined (XEP-0410 3.2) (%s)" % err)
    _, err = await ping(c, ROOM + "/Carol")
    check(err == "not-acceptable", "self-ping from carol, not joined: "
          "not-acceptable (XEP-0410 3.2) got %s" % err)

    # -- disco#info of a room (6.4) --
    info, err = await disco_info(c, ROOM)
    check(err is None, "disco#info of room1 (%s)" % err)
    ids, feats, form = info
    check(("conference", "text") in [i[:2] for i in ids] and MUC_NS in feats,
          "room identity conference/text and the muc feature (6.4)")
    want = {"muc_public", "muc_temporary", "muc_open", "muc_unmoderated",
            "muc_semianonymous", "muc_unsecured"}
    check(want <= feats, "room features %s (6.4); missing %s"
          % (sorted(want), sorted(want - feats)))
    check(form.get("FORM_TYPE") == [MUC_NS + "#roominfo"] and
          form.get("muc#roominfo_occupants") == ["2"],
          "muc#roominfo form with muc#roominfo_occupants = 2 (6.4, 15.5.4)"
          ": %s" % form)

    # -- one nick from two resources (multi-session nick) --
    b2 = await mc_login(rig, "bob@localhost/b2", "pencil")
    await asyncio.sleep(0.2)
    mc_drain(a, b, b2)
    others2, me_b2 = await mc_join(b2, ROOM, "Bob")
    check(me_b2["type"] != "error" and 110 in mc_codes(me_b2),
          "bob's second resource joins under the same nick, self-presence "
          "110 (%s)" % (mc_error(me_b2),))
    check(ROOM + "/Alice" in [mc_from(p) for p in others2],
          "the second resource gets the occupants' presences")
    a.send_raw("<message to='%s' type='groupchat' id='two1'><body>to both"
               "</body></message>" % ROOM)
    for cl, name in ((b, "b"), (b2, "b2")):
        m = await mc_next(cl.messages, lambda m: m["body"] == "to both",
                              "groupchat at bob/" + name)
        check(mc_from(m) == ROOM + "/Alice",
              "a groupchat message reaches bob/%s" % name)
    await mc_leave(b2, ROOM, "Bob")
    passed("bob/b2 leaves: unavailable with 110 to it")
    a.send_raw("<message to='%s' type='groupchat' id='two2'><body>still"
               "</body></message>" % ROOM)
    m = await mc_next(b.messages, lambda m: m["body"] == "still",
                          "groupchat at bob/b after b2 left")
    got = await mc_collect(a.presences, 0.5)
    check(not [p for p in got if mc_from(p) == ROOM + "/Bob" and
               p["type"] == "unavailable"],
          "one resource leaving keeps the occupant (no unavailable for Bob "
          "to alice; bob/b still gets messages)")
    b2.disconnect()

    # -- presence update broadcast (7.7 'Changing Availability Status') --
    mc_drain(a, b)
    b.send_raw("<presence to='%s/Bob'><show>away</show><status>brb</status>"
               "</presence>" % ROOM)
    for cl, who in ((a, "alice"), (b, "bob")):
        p = await mc_next(cl.presences, presence_from(cl, ROOM + "/Bob"),
                              "bob's changed presence at " + who)
        check(p["show"] == "away" and p["status"] == "brb" and
              mc_item(p).get("role") == "participant",
              "%s gets bob's new show/status with the muc item (7.7)" % who)

    # -- nick change (7.6 'Changing Nickname') --
    mc_drain(a, b)
    b.send_raw("<presence to='%s/Robert'/>" % ROOM)
    for cl, who in ((a, "alice"), (b, "bob")):
        un = await mc_next(cl.presences, presence_from(
            cl, ROOM + "/Bob", "unavailable"), "unavailable Bob at " + who)
        check(303 in mc_codes(un) and mc_item(un).get("nick") == "Robert",
              "%s: unavailable from old nick with 303 and nick=Robert (7.6 'Changing Nickname')"
              " codes %s item %s" % (who, sorted(mc_codes(un)),
                                     mc_item(un)))
        av = await mc_next(cl.presences, presence_from(
            cl, ROOM + "/Robert"), "available Robert at " + who)
        check(av["type"] == "available",
              "%s: then available from the new nick" % who)
        if cl is b:
            check(110 in mc_codes(un) and 110 in mc_codes(av),
                  "bob's own copies carry 110 (7.6 'Changing Nickname')")
            check(mc_occupant_id(av) == oid_b,
                  "XEP-0421: occupant id unchanged by the nick change")

    # -- leaving (7.14 'Exiting a Room') --
    mc_drain(a)
    un = await mc_leave(b, ROOM, "Robert")
    check(mc_from(un) == ROOM + "/Robert", "bob leaves: unavailable with "
          "110 from his room JID (7.14 'Exiting a Room')")
    p = await mc_next(a.presences, presence_from(
        a, ROOM + "/Robert", "unavailable"), "alice sees bob leave")
    check(mc_item(p).get("role") == "none",
          "alice gets bob's unavailable, role none (7.14 'Exiting a Room')")
    _, err = await ping(b, ROOM + "/Robert")
    check(err == "not-acceptable", "self-ping after leaving: not-acceptable "
          "(XEP-0410) got %s" % err)

    # -- password-protected room (7.2 'Password-Protected Rooms') --
    secret = "secret@" + MUC_DOMAIN
    await mc_create(a, secret, "Alice", {
        "muc#roomconfig_passwordprotectedroom": "1",
        "muc#roomconfig_roomsecret": "cauldron"})
    _, me = await mc_join(c, secret, "Carol")
    check(mc_error(me) == ("not-authorized", "auth"),
          "no password: not-authorized, auth (7.2 'Password-Protected Rooms') got %s"
          % (mc_error(me),))
    _, me = await mc_join(c, secret, "Carol", password="wrong")
    check(mc_error(me) == ("not-authorized", "auth"),
          "wrong password: not-authorized (7.2 'Password-Protected Rooms') got %s"
          % (mc_error(me),))
    _, me = await mc_join(c, secret, "Carol", password="cauldron")
    check(me["type"] != "error" and 110 in mc_codes(me),
          "right password: carol enters")
    info, _ = await disco_info(d, secret)
    check(info and "muc_passwordprotected" in info[1],
          "disco#info shows muc_passwordprotected")

    # -- members-only room (7.2 'Members-Only Rooms') --
    club = "club@" + MUC_DOMAIN
    await mc_create(a, club, "Alice", {"muc#roomconfig_membersonly": "1"})
    _, err = await mc_affiliate(a, club, "bob@localhost", "member")
    check(err is None, "alice makes bob a member (%s)" % err)
    _, me = await mc_join(c, club, "Carol")
    check(mc_error(me) == ("registration-required", "auth"),
          "carol, not a member: registration-required, auth (7.2 'Members-Only Rooms') got %s"
          % (mc_error(me),))
    _, me = await mc_join(b, club, "Bob")
    check(me["type"] != "error" and
          mc_item(me).get("affiliation") == "member",
          "bob, a member, enters as member (%s)" % mc_item(me))

    # -- banned (7.2 'Banned Users') --
    _, err = await mc_affiliate(a, ROOM, "dave@localhost", "outcast")
    check(err is None, "alice bans dave from room1 (%s)" % err)
    _, me = await mc_join(d, ROOM, "Dave")
    check(mc_error(me) == ("forbidden", "auth"),
          "dave, banned: forbidden, auth (7.2 'Banned Users') got %s"
          % (mc_error(me),))

    # -- non-anonymous, unlogged room: 100, no 170, JIDs for all (7.2 'Non-Anonymous Rooms') --
    opn = "open@" + MUC_DOMAIN
    await mc_create(a, opn, "Alice", {
        "muc#roomconfig_whois": "anyone",
        "muc#roomconfig_enablelogging": "0",
        "muc#roomconfig_enablearchiving": "0"})
    others, me = await mc_join(c, opn, "Carol")
    check(100 in mc_codes(me), "non-anonymous room: 100 in the "
          "self-presence (7.2 'Non-Anonymous Rooms') %s" % sorted(mc_codes(me)))
    check(170 not in mc_codes(me), "a room not logged: no 170")
    check(others and (mc_item(others[0]).get("jid") or "").startswith(
        "alice@localhost/a"), "non-anonymous: participant carol sees "
          "alice's real JID (%s)" % [mc_item(p) for p in others])
    info, _ = await disco_info(d, opn)
    check(info and "muc_nonanonymous" in info[1],
          "disco#info shows muc_nonanonymous")

    # -- room full (7.2 'Max Users') --
    tiny = "tiny@" + MUC_DOMAIN
    await mc_create(a, tiny, "Alice", {"muc#roomconfig_maxusers": "2"})
    _, me = await mc_join(b, tiny, "Bob")
    check(me["type"] != "error", "bob enters tiny (2 of 2)")
    _, me = await mc_join(c, tiny, "Carol")
    check(mc_error(me)[0] == "service-unavailable",
          "carol, third in a 2-user room: service-unavailable (7.2 'Max Users') got "
          "%s" % (mc_error(me),))

    # -- the service lists public rooms, not hidden ones (6.3) --
    hidden = "hidden@" + MUC_DOMAIN
    await mc_create(a, hidden, "Alice", {"muc#roomconfig_publicroom": "0"})
    page, first, last, count = await rooms_page(d)
    check(len(page) == PAGE and count is not None and int(count) > PAGE and
          first == page[0] and last == page[-1],
          "disco#items without <set/>: the first %d rooms, with a <set/> "
          "giving first, last and the count (XEP-0059) %s of %s"
          % (PAGE, page, count))
    rooms = list(page)
    while len(rooms) < int(count):
        page, _, last, _ = await rooms_page(
            d, "<set xmlns='%s'><max>2</max><after>%s</after></set>"
            % (RSM, last))
        if not page:
            raise Failure("no page after %s (%d of %s)"
                          % (last, len(rooms), count))
        rooms += page
    check(rooms == sorted(set(rooms)), "page by page (max 2, after), every "
          "room once, in JID order %s" % rooms)
    check(ROOM in rooms and club in rooms,
          "disco#items of the service lists the public rooms (6.3)")
    check(hidden not in rooms, "a hidden room is not listed (6.3)")
    page, *_ = await rooms_page(d, "<set xmlns='%s'><max>2</max><before/>"
                                "</set>" % RSM)
    check(page == rooms[-2:], "an empty <before/>: the last page %s" % page)
    page, first, _, n = await rooms_page(d, "<set xmlns='%s'><max>0</max>"
                                         "</set>" % RSM)
    check(page == [] and first is None and n == count,
          "<max>0</max>: only the count (XEP-0059 2.6)")
    info, _ = await disco_info(d, hidden)
    check(info and "muc_hidden" in info[1], "disco#info shows muc_hidden")

    # -- a temporary room goes away with its last occupant (10.1 / 7.14) --
    temp = "temp@" + MUC_DOMAIN
    await mc_create(c, temp, "Carol")
    info, err = await disco_info(d, temp)
    check(err is None and "muc_temporary" in info[1],
          "temp exists while carol is in it, muc_temporary")
    await mc_leave(c, temp, "Carol")
    await asyncio.sleep(0.2)
    _, err = await disco_info(d, temp)
    check(err == "item-not-found", "after the last occupant left, disco#info"
          " of the temporary room: item-not-found got %s" % err)
    items, _ = await disco_items(d, MUC_DOMAIN)
    check(temp not in items, "and the service no longer lists it")

    # -- 210: the service normalised the nick (fullwidth D -> D, NFKC) --
    norm = "norm@" + MUC_DOMAIN
    _, me = await mc_join(d, norm, "\uff24ave")
    check(me["type"] != "error" and mc_from(me) == norm + "/Dave" and
          210 in mc_codes(me),
          "a nick the service normalises: self-presence from the new nick "
          "with status 210 (7.2 'Nickname Modification'): %s %s"
          % (mc_from(me), sorted(mc_codes(me))))

    for cl in (a, b, c, d):
        cl.disconnect()
    await asyncio.sleep(0.3)


main(test)
