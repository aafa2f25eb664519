"""xmppd-muc, XEP-0045 owner use cases (section 10) and the service's
administration, black box through several slixmpp clients: instant and
reserved rooms (locked until configured), the muc#roomconfig form round
trip for every standard field and what disco#info shows of it, status codes
104, 172 and 173, password and members-only enforced after a configuration
change, destroying a room (alternate venue, reason; non-owners refused),
service admins owning every room, room creation limited by room_creators,
the XEP-0050/XEP-0133 commands list-rooms, create-room and destroy-room (allowed and
refused) and nickname registration with a room (jabber:iq:register)."""
import asyncio

from xdtest import (Failure, MUC_DOMAIN, NS_MUC_ADMIN, NS_MUC_OWNER,
                    NS_MUC_USER, NS_XDATA, Rig, admin_query, check, passed,
                    close_all, form_fields, iq_xml, main, muc_codes,
                    muc_configure, muc_item, muc_join, muc_login,
                    muc_room_form, stanza_error, submit_form)

PW = "pw"
CMDS = "http://jabber.org/protocol/commands"
DISCO_INFO = "http://jabber.org/protocol/disco#info"
DISCO_ITEMS = "http://jabber.org/protocol/disco#items"
REGISTER = "jabber:iq:register"
NS_MUC_REGISTER = "http://jabber.org/protocol/muc#register"
LIST_ROOMS = "urn:xmppd:muc:list-rooms"
DESTROY_ROOM = "urn:xmppd:muc:destroy-room"
CREATE_ROOM = "urn:xmppd:muc:create-room"
RC = "muc#roomconfig_"


def room(name):
    return "%s@%s" % (name, MUC_DOMAIN)


async def expect_iq(c, itype, to, payload, want, what):
    """An iq whose outcome must be `want`: None (a result) or the error
    condition the XEP names. Returns the reply."""
    reply, cond, ex = await iq_xml(c, itype, to, payload)
    check(cond == want, what if cond == want else "%s: expected %s, got %s%s"
          % (what, want or "a result", cond or "a result", ex))
    return reply


def owner_query(inner=""):
    return "<query xmlns='%s'>%s</query>" % (NS_MUC_OWNER, inner)


def unavailable_from(occ):
    return lambda p: str(p["from"]) == occ and p["type"] == "unavailable"


def status_message(rjid, code):
    return lambda m: str(m["from"]) == rjid and code in muc_codes(m)


def norm(ftype, vals):
    """A field's values, compared the way their type means them."""
    if ftype == "boolean":
        # No value is false (XEP-0004 3.3, boolean's default)
        return [bool(vals) and vals[0].strip().lower() in ("1", "true")]
    if ftype in ("list-multi", "jid-multi", "text-multi"):
        return sorted(v.split("/")[0] if ftype == "jid-multi" else v
                      for v in vals)
    return vals


async def disco_info(c, jid):
    reply, cond, ex = await iq_xml(c, "get", jid,
                                   "<query xmlns='%s'/>" % DISCO_INFO)
    if cond:
        raise Failure("disco#info of %s: %s" % (jid, ex))
    q = reply.xml.find("{%s}query" % DISCO_INFO)
    feats = {f.get("var") for f in q.findall("{%s}feature" % DISCO_INFO)}
    names = [i.get("name") for i in q.findall("{%s}identity" % DISCO_INFO)]
    return feats, names, form_fields(q.find("{%s}x" % NS_XDATA))


async def disco_items(c, jid, node=None):
    reply, cond, ex = await iq_xml(
        c, "get", jid, "<query xmlns='%s'%s/>"
        % (DISCO_ITEMS, " node='%s'" % node if node else ""))
    if cond:
        raise Failure("disco#items of %s: %s" % (jid, ex))
    q = reply.xml.find("{%s}query" % DISCO_ITEMS)
    return [(i.get("jid"), i.get("node"))
            for i in q.findall("{%s}item" % DISCO_ITEMS)]


async def instant(a, b, rjid):
    """10.1.2 and the lock of 10.1.1: returns after bob entered."""
    p = await muc_join(a, rjid + "/alice")
    check(not stanza_error(p) and {"201", "110"} <= muc_codes(p),
          "10.1.1: creating a room: self-presence with 201 and 110 (got %s)"
          % p)
    item = muc_item(p)[0]
    check(item.get("affiliation") == "owner" and item.get("role") ==
          "moderator", "10.1.1: the creator is owner and moderator")
    p = await muc_join(b, rjid + "/bob")
    check(stanza_error(p) == "item-not-found",
          "10.1.1: entering a locked room: <item-not-found/> (got %s)"
          % (stanza_error(p) or p))
    await expect_iq(a, "set", rjid, owner_query(
        "<x xmlns='jabber:x:data' type='submit'/>"), None,
        "10.1.2: the owner accepts the default configuration (instant)")
    p = await muc_join(b, rjid + "/bob")
    check(not stanza_error(p) and "201" not in muc_codes(p),
          "10.1.2: once configured bob enters (no 201)")


async def reserved(a, b, c, d, rjid):
    """10.1.3 and the whole form: every field submitted comes back."""
    p = await muc_join(a, rjid + "/alice")
    check("201" in muc_codes(p), "10.1.3: reserved room created (201)")
    fields, cond, ex = await muc_room_form(a, rjid)
    check(cond is None, "10.1.3: the owner gets the configuration form"
          + ("" if cond is None else ex))
    check(fields.get("FORM_TYPE", (0, [None]))[1][:1] ==
          ["http://jabber.org/protocol/muc#roomconfig"],
          "10.1.3: FORM_TYPE muc#roomconfig")
    want = {
        RC + "roomname": "Reserved room",
        RC + "roomdesc": "for testing the owner",
        RC + "lang": "de",
        RC + "persistentroom": "1",
        RC + "publicroom": "0",
        RC + "membersonly": "0",
        RC + "passwordprotectedroom": "1",
        RC + "roomsecret": "open-sesame",
        RC + "moderatedroom": "1",
        RC + "whois": "anyone",
        RC + "maxusers": "30",
        "muc#maxhistoryfetch": "15",
        RC + "changesubject": "1",
        RC + "allowinvites": "1",
        RC + "allowpm": "moderators",
        RC + "presencebroadcast": ["moderator", "participant"],
        RC + "getmemberlist": ["moderator", "participant"],
        RC + "enablearchiving": "0",
        RC + "roomadmins": ["dave@localhost"],
        RC + "roomowners": ["alice@localhost", "carol@localhost"],
        RC + "allowvoicerequests": "0",
    }
    # Fields the form lacks fail at the end of this function, after the
    # round trip of the others.
    missing = [v for v in want if v not in fields]
    for v in missing:
        del want[v]
    mu = fields.get(RC + "maxusers", (None, [], []))
    if mu[2] and "30" not in mu[2]:  # a list-single: one of its options
        want[RC + "maxusers"] = [o for o in mu[2] if o not in mu[1]][0]
    for var, opt in ((RC + "whois", "anyone"), (RC + "allowpm", "moderators")):
        if var in fields:
            check(opt in fields[var][2], "%s offers %s" % (var, opt))
    await muc_configure(a, rjid, want)
    passed("10.1.3: the owner submits the form with every field set")

    again, cond, ex = await muc_room_form(a, rjid)
    check(cond is None, "10.2: the form again" + ("" if cond is None
                                                    else ex))
    for var, v in want.items():
        t = fields[var][0]
        got = norm(t, again.get(var, (t, [], []))[1])
        exp = norm(t, v if isinstance(v, list) else [v])
        check(got == exp, "10.2: %s is %s (got %s)" % (var, exp, got))

    feats, names, info = await disco_info(b, rjid)
    for f in ("muc_persistent", "muc_hidden", "muc_open",
              "muc_passwordprotected", "muc_moderated", "muc_nonanonymous"):
        check(f in feats, "6.4: disco#info shows %s" % f)
    for f in ("muc_temporary", "muc_public", "muc_membersonly",
              "muc_unsecured", "muc_unmoderated", "muc_semianonymous"):
        check(f not in feats, "6.4: disco#info does not show %s" % f)
    check("Reserved room" in names, "6.4: the identity's name is the room "
          "name (got %s)" % names)
    check(info.get("muc#roominfo_description", (0, []))[1] ==
          ["for testing the owner"], "6.4: muc#roominfo_description")
    check(info.get("muc#roominfo_lang", (0, []))[1] == ["de"],
          "6.4: muc#roominfo_lang")
    public = [j for j, _ in await disco_items(b, MUC_DOMAIN)]
    check(rjid not in public, "6.3: the hidden room is not listed")

    reply = await expect_iq(a, "get", rjid, admin_query(
        {"affiliation": "owner"}), None, "10.5: the owner list")
    owners = {i.get("jid") for i in reply.xml.find(
        "{%s}query" % NS_MUC_ADMIN)}
    check(owners == {"alice@localhost", "carol@localhost"},
          "10.1.3: roomowners made carol an owner (got %s)" % owners)
    reply = await expect_iq(a, "get", rjid, admin_query(
        {"affiliation": "admin"}), None, "10.8: the admin list")
    admins = {i.get("jid") for i in reply.xml.find(
        "{%s}query" % NS_MUC_ADMIN)}
    check(admins == {"dave@localhost"},
          "10.1.3: roomadmins made dave an admin (got %s)" % admins)

    p = await muc_join(b, rjid + "/bob")
    check(stanza_error(p) == "not-authorized", "7.2.6: no password: "
          "<not-authorized/> (got %s)" % stanza_error(p))
    p = await muc_join(b, rjid + "/bob", password="open-sesame")
    check(not stanza_error(p) and muc_item(p)[0].get("role") == "visitor",
          "7.2.6: with the secret bob enters, a visitor (moderated)")
    check(not missing, "10.1.3: the form has every standard field "
          "(missing: %s)" % missing)


async def changes(a, b, c, d, rjid):
    """10.2 refusals, 10.2.1 status codes, password and members-only."""
    await expect_iq(b, "get", rjid, owner_query(), "forbidden",
                    "10.2: a non-owner asking for the form: <forbidden/>")
    await expect_iq(b, "set", rjid, owner_query(
        submit_form("http://jabber.org/protocol/muc#roomconfig",
                    {RC + "roomname": "bob's"})), "forbidden",
        "10.2: a non-owner submitting a form: <forbidden/>")

    b.msgs.clear()
    await muc_configure(a, rjid, {RC + "roomname": "Renamed"})
    await b.msgs.get(status_message(rjid, "104"), "104 at bob")
    passed("10.2.1: a configuration change: message with 104 to "
          "the occupants")
    await muc_configure(a, rjid, {RC + "whois": "anyone"})
    await b.msgs.get(status_message(rjid, "172"), "172 at bob")
    passed("10.2.1: the room turns non-anonymous: 172")
    await muc_configure(a, rjid, {RC + "whois": "moderators"})
    await b.msgs.get(status_message(rjid, "173"), "173 at bob")
    passed("10.2.1: the room turns semi-anonymous: 173")

    await muc_configure(a, rjid, {RC + "passwordprotectedroom": "1",
                                  RC + "roomsecret": "sesame"})
    p = await muc_join(c, rjid + "/carol")
    check(stanza_error(p) == "not-authorized", "7.2.6: after the change, "
          "no password: <not-authorized/> (got %s)" % stanza_error(p))
    p = await muc_join(c, rjid + "/carol", password="wrong")
    check(stanza_error(p) == "not-authorized",
          "7.2.6: a wrong password: <not-authorized/>")
    p = await muc_join(c, rjid + "/carol", password="sesame")
    check(not stanza_error(p), "7.2.6: the right password lets carol in")
    feats, _, _ = await disco_info(d, rjid)
    check("muc_passwordprotected" in feats and "muc_unsecured" not in feats,
          "6.4: disco#info shows muc_passwordprotected")

    for x in (a, b, c):
        x.pres.clear()
    await muc_configure(a, rjid, {RC + "membersonly": "1"})
    for x, who in ((b, "bob"), (c, "carol")):
        p = await x.pres.get(unavailable_from(rjid + "/" + who),
                             "%s's removal" % who)
        check("322" in muc_codes(p), "9.x/10.2: the room turns members-only:"
              " the non-member %s is removed with 322" % who)
    p = await a.pres.get(unavailable_from(rjid + "/bob"), "bob's removal")
    check("322" in muc_codes(p), "the remaining owner sees 322 too")
    p = await muc_join(b, rjid + "/bob", password="sesame")
    check(stanza_error(p) == "registration-required",
          "7.2.5: a non-member entering: <registration-required/> (got %s)"
          % stanza_error(p))
    await expect_iq(a, "set", rjid, admin_query(
        {"jid": "bob@localhost", "affiliation": "member"}), None,
        "9.3: the owner makes bob a member")
    p = await muc_join(b, rjid + "/bob", password="sesame")
    check(not stanza_error(p), "7.2.5: the member bob enters")
    feats, _, _ = await disco_info(d, rjid)
    check("muc_membersonly" in feats and "muc_open" not in feats,
          "6.4: disco#info shows muc_membersonly")


async def destroy(a, b, c, rjid, alt):
    """10.9: destroying a room."""
    await expect_iq(c, "set", rjid, owner_query(
        "<destroy jid='%s'><reason>mine</reason></destroy>" % alt),
        "forbidden", "10.9: a non-owner (carol) destroying: <forbidden/>")
    await expect_iq(b, "set", rjid, owner_query(
        "<destroy/>"), "forbidden",
        "10.9: a member (bob, occupant) destroying: <forbidden/>")
    for x in (a, b):
        x.pres.clear()
    await expect_iq(a, "set", rjid, owner_query(
        "<destroy jid='%s'><reason>moving</reason></destroy>" % alt), None,
        "10.9: the owner destroys the room")
    for x, who in ((b, "bob"), (a, "alice")):
        p = await x.pres.get(unavailable_from(rjid + "/" + who),
                             "%s's unavailable" % who)
        x_ = p.xml.find("{%s}x" % NS_MUC_USER)
        d = None if x_ is None else x_.find("{%s}destroy" % NS_MUC_USER)
        check(d is not None and d.get("jid") == alt and
              d.findtext("{%s}reason" % NS_MUC_USER) == "moving",
              "10.9: %s gets unavailable with <destroy jid=alt><reason/> "
              "(got %s)" % (who, p))
        item = muc_item(p)[0]
        check(item.get("affiliation") == "none" and item.get("role") ==
              "none", "10.9: %s's item: affiliation and role none" % who)
    p = await muc_join(b, rjid + "/bob")
    check("201" in muc_codes(p), "10.9: the room is gone: entering its JID "
          "creates a new one (201)")
    b.send_raw("<presence to='%s/bob' type='unavailable'/>" % rjid)


async def create_room(a, adm):
    """create-room, its form given with the execute: a members-only hidden
    room owned by alice, which she may configure; again: conflict."""
    nodes = [n for _, n in await disco_items(adm, MUC_DOMAIN, CMDS)]
    check(CREATE_ROOM in nodes, "the service admin sees create-room")
    nodes = [n for _, n in await disco_items(a, MUC_DOMAIN, CMDS)]
    check(CREATE_ROOM not in nodes, "alice does not see create-room")
    made = room("made")
    form = submit_form(None, {"room": made, "name": "Made",
                              "members-only": "1", "public": "0",
                              "owner": "alice@localhost"})
    execute = ("<command xmlns='%s' node='%s' action='execute'>%s</command>"
               % (CMDS, CREATE_ROOM, form))
    await expect_iq(a, "set", MUC_DOMAIN, execute, "forbidden",
                    "alice executing create-room with a form: <forbidden/>")
    reply = await expect_iq(adm, "set", MUC_DOMAIN, execute, None,
                            "the admin runs create-room with its form")
    check(reply.xml.find("{%s}command" % CMDS).get("status") == "completed",
          "create-room completes in one request")
    fields, cond, ex = await muc_room_form(a, made)
    check(cond is None and fields.get(RC + "membersonly", (0, []))[1] ==
          ["1"] and fields.get(RC + "publicroom", (0, []))[1] == ["0"] and
          fields.get(RC + "roomname", (0, []))[1] == ["Made"],
          "alice owns the room, members-only, hidden, named (got %s)%s"
          % (fields, "" if cond is None else ex))
    public = [j for j, _ in await disco_items(a, MUC_DOMAIN)]
    check(made not in public, "the hidden room is not listed")
    await expect_iq(adm, "set", MUC_DOMAIN, execute, "conflict",
                    "create-room of an existing room: <conflict/>")


async def commands(a, adm, keep, doomed):
    """XEP-0133 style commands on the service: only for service admins."""
    nodes = [n for _, n in await disco_items(adm, MUC_DOMAIN, CMDS)]
    check(LIST_ROOMS in nodes and DESTROY_ROOM in nodes,
          "XEP-0050 2.2: the service admin sees both commands (got %s)"
          % nodes)
    nodes = [n for _, n in await disco_items(a, MUC_DOMAIN, CMDS)]
    check(LIST_ROOMS not in nodes and DESTROY_ROOM not in nodes,
          "XEP-0050 2.2: alice (no service admin) sees neither (got %s)"
          % nodes)
    for node in (LIST_ROOMS, CREATE_ROOM, DESTROY_ROOM):
        await expect_iq(a, "set", MUC_DOMAIN, "<command xmlns='%s' node='%s'"
                        " action='execute'/>" % (CMDS, node), "forbidden",
                        "XEP-0050 4.4: alice executing %s: <forbidden/>"
                        % node)

    async def list_rooms():
        reply = await expect_iq(adm, "set", MUC_DOMAIN,
                                "<command xmlns='%s' node='%s' "
                                "action='execute'/>" % (CMDS, LIST_ROOMS),
                                None, "the admin runs list-rooms")
        cmd = reply.xml.find("{%s}command" % CMDS)
        check(cmd is not None and cmd.get("status") == "completed",
              "list-rooms completes in one stage")
        f = form_fields(cmd.find("{%s}x" % NS_XDATA)).get("rooms")
        check(f is not None and f[0] == "jid-multi",
              "list-rooms: a jid-multi field 'rooms'")
        return set(f[1])
    await create_room(a, adm)
    rooms = await list_rooms()
    check({keep, doomed} <= rooms, "list-rooms lists %s and %s (got %s)"
          % (keep, doomed, rooms))

    reply = await expect_iq(adm, "set", MUC_DOMAIN,
                            "<command xmlns='%s' node='%s' action='execute'/>"
                            % (CMDS, DESTROY_ROOM), None,
                            "the admin starts destroy-room")
    cmd = reply.xml.find("{%s}command" % CMDS)
    check(cmd.get("status") == "executing" and cmd.get("sessionid"),
          "destroy-room: executing, with a session")
    f = form_fields(cmd.find("{%s}x" % NS_XDATA))
    check(f.get("room", ("",))[0] == "jid-single" and
          f.get("reason", ("",))[0] == "text-single" and
          f.get("alternate", ("",))[0] == "jid-single",
          "destroy-room: fields room, reason, alternate (got %s)" % f)
    a.pres.clear()
    form = submit_form(None, {"room": doomed, "reason": "closing",
                              "alternate": keep})
    reply = await expect_iq(adm, "set", MUC_DOMAIN,
                            "<command xmlns='%s' node='%s' sessionid='%s' "
                            "action='complete'>%s</command>"
                            % (CMDS, DESTROY_ROOM, cmd.get("sessionid"),
                               form), None, "the admin submits destroy-room")
    check(reply.xml.find("{%s}command" % CMDS).get("status") == "completed",
          "destroy-room completes")
    p = await a.pres.get(unavailable_from(doomed + "/alice"),
                         "alice's unavailable from the destroyed room")
    x_ = p.xml.find("{%s}x" % NS_MUC_USER)
    d = None if x_ is None else x_.find("{%s}destroy" % NS_MUC_USER)
    check(d is not None and d.get("jid") == keep and
          d.findtext("{%s}reason" % NS_MUC_USER) == "closing",
          "destroy-room: the occupant gets <destroy jid=alternate>"
          "<reason/> (got %s)" % p)
    rooms = await list_rooms()
    check(doomed not in rooms and keep in rooms,
          "list-rooms no longer has the destroyed room")


async def registration(a, b, c, rjid):
    """7.10: registering a nickname with a room."""
    reply = await expect_iq(b, "get", rjid, "<query xmlns='%s'/>" % REGISTER,
                            None, "7.10: bob asks the room for its "
                            "registration form")
    q = reply.xml.find("{%s}query" % REGISTER)
    f = form_fields(q.find("{%s}x" % NS_XDATA))
    check(f.get("FORM_TYPE", (0, [None]))[1][:1] == [NS_MUC_REGISTER] and
          "muc#register_roomnick" in f,
          "7.10: a muc#register form with muc#register_roomnick (got %s)"
          % f)
    await expect_iq(b, "set", rjid, "<query xmlns='%s'>%s</query>" % (
        REGISTER, submit_form(NS_MUC_REGISTER,
                              {"muc#register_roomnick": "bobby"})), None,
        "7.10: bob registers the nick bobby")
    reply = await expect_iq(b, "get", rjid, "<query xmlns='%s'/>" % REGISTER,
                            None, "7.10: bob asks again")
    q = reply.xml.find("{%s}query" % REGISTER)
    check(q.find("{%s}registered" % REGISTER) is not None and
          q.findtext("{%s}username" % REGISTER) == "bobby",
          "7.10: <registered/> with <username>bobby</username> (got %s)"
          % reply)
    reply = await expect_iq(a, "get", rjid, admin_query(
        {"affiliation": "member"}), None, "9.5: the member list")
    items = [dict(i.attrib) for i in reply.xml.find(
        "{%s}query" % NS_MUC_ADMIN)]
    check(items == [], "7.10: registering reserves the nick but makes no "
          "one a member (issue 11; got %s)" % items)
    p = await muc_join(c, rjid + "/bobby")
    check(stanza_error(p) == "conflict", "7.2.9: carol taking bob's "
          "registered nick: <conflict/> (got %s)" % (stanza_error(p) or p))
    p = await muc_join(b, rjid + "/bobby")
    check(not stanza_error(p), "bob enters with his registered nick")


async def creators():
    """room_creators: a second installation where only alice creates."""
    rig2 = Rig()
    try:
        for u in ("alice", "bob"):
            rig2.adduser(u + "@localhost", PW)
        rig2.start_xmppd()
        rig2.start_muc(room_creators="alice@localhost")
        a, b = await asyncio.gather(muc_login(rig2, "alice@localhost/t", PW),
                                    muc_login(rig2, "bob@localhost/t", PW))
        p = await muc_join(b, room("bobs") + "/bob")
        check(stanza_error(p) == "not-allowed", "10.1.1: bob, not among "
              "room_creators, creating a room: <not-allowed/> (got %s)"
              % (stanza_error(p) or p))
        p = await muc_join(a, room("alices") + "/alice")
        check("201" in muc_codes(p), "10.1.1: alice, a room creator, may")
        await close_all(a, b)
    finally:
        rig2.close()


async def test(rig):
    users = ("alice", "bob", "carol", "dave", "admin")
    for u in users:
        rig.adduser(u + "@localhost", PW)
    rig.start_xmppd()
    rig.start_muc()
    cl = await asyncio.gather(*[muc_login(rig, u + "@localhost/t", PW)
                                for u in users])
    for x in cl:
        x.send_presence()
    a, b, c, d, adm = cl
    inst, res = room("inst"), room("res")
    await instant(a, b, inst)
    check(inst in [j for j, _ in await disco_items(c, MUC_DOMAIN)],
          "6.3: the public room is listed by the service")
    await reserved(a, b, c, d, res)
    fields, cond, ex = await muc_room_form(adm, res)
    check(cond is None and fields, "the service admin (no affiliation) gets "
          "the room's configuration form: owner of every room"
          + ("" if cond is None else ex))
    await changes(a, b, c, d, inst)
    await destroy(a, b, c, inst, res)
    reg = room("reg")
    p = await muc_join(a, reg + "/alice")
    check("201" in muc_codes(p), "reg is a new room")
    await expect_iq(a, "set", reg, owner_query(
        "<x xmlns='jabber:x:data' type='submit'/>"), None, "reg created")
    await registration(a, b, c, reg)
    await commands(a, adm, res, reg)
    await close_all(*cl)
    await creators()


if __name__ == "__main__":
    main(test)
