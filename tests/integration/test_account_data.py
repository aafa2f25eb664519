"""XEP-0049 private XML storage (owner only), XEP-0054 vCards (owner
writes, anyone reads) and XEP-0202 entity time; stored data survives a
restart of xmppd."""
import re


from xdtest import send_iq, check, login, logout, main



PRIV = "<query xmlns='jabber:iq:private'>%s</query>"
NOTES = "<storage xmlns='storage:rosternotes'><note jid='x@y'>hi</note>" \
        "</storage>"
VCARD = "<vCard xmlns='vcard-temp'><FN>Alice Liddell</FN><NICKNAME>alice" \
        "</NICKNAME></vCard>"


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.start_xmppd()
    a = await login(rig, "alice@localhost/a", "pencil")
    b = await login(rig, "bob@localhost/b", "pencil")

    res, err = await send_iq(a, "get", PRIV % "<storage xmlns='storage:rosternotes'/>")
    st = res.xml.find("{jabber:iq:private}query/{storage:rosternotes}storage")
    check(err is None and st is not None and len(st) == 0,
          "private: nothing stored yet gives the empty element back")
    res, err = await send_iq(a, "set", PRIV % NOTES)
    check(err is None, "private: set")
    res, err = await send_iq(a, "get", PRIV % "<storage xmlns='storage:rosternotes'/>")
    note = res.xml.find(".//{storage:rosternotes}note")
    check(note is not None and note.text == "hi", "private: get returns it")
    _, err = await send_iq(a, "set", PRIV % "<a xmlns='jabber:client'/>")
    check(err == "not-acceptable", "private: a stanza namespace is refused")
    _, err = await send_iq(a, "set", PRIV % "<a xmlns='x'/><b xmlns='y'/>")
    check(err == "bad-request", "private: two elements are refused")
    _, err = await send_iq(b, "get", PRIV % "<storage xmlns='storage:rosternotes'/>",
                      to="alice@localhost")
    check(err == "forbidden", "private: someone else's is forbidden")

    res, err = await send_iq(a, "get", "<vCard xmlns='vcard-temp'/>")
    check(err is None and res.xml.find("{vcard-temp}vCard") is not None
          and len(res.xml.find("{vcard-temp}vCard")) == 0,
          "vCard: empty before one is set")
    _, err = await send_iq(a, "set", VCARD)
    check(err is None, "vCard: set")
    res, err = await send_iq(b, "get", "<vCard xmlns='vcard-temp'/>",
                        to="alice@localhost")
    check(err is None and res.xml.findtext(".//{vcard-temp}FN") ==
          "Alice Liddell", "vCard: bob reads alice's")
    _, err = await send_iq(b, "set", VCARD, to="alice@localhost")
    check(err == "forbidden", "vCard: bob cannot write alice's")

    res, err = await send_iq(a, "get", "<time xmlns='urn:xmpp:time'/>",
                        to="localhost")
    utc = res.xml.findtext(".//{urn:xmpp:time}utc")
    check(err is None and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                                   utc or "") is not None,
          "entity time: %s" % utc)
    await logout(a, b)

    check(rig.xmppd.stop() == 0, "xmppd stops cleanly on SIGTERM")
    rig.procs.remove(rig.xmppd)
    rig.start_xmppd()
    a = await login(rig, "alice@localhost/a", "pencil")
    res, _ = await send_iq(a, "get", "<vCard xmlns='vcard-temp'/>")
    res2, _ = await send_iq(a, "get",
                       PRIV % "<storage xmlns='storage:rosternotes'/>")
    check(res.xml.findtext(".//{vcard-temp}NICKNAME") == "alice"
          and res2.xml.find(".//{storage:rosternotes}note") is not None,
          "both survive a restart")
    await logout(a)


main(test)
