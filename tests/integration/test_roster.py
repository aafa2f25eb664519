"""Roster management (RFC 6121 section 2) with versioning (XEP-0237):
get, set with name and groups, pushes to every interested resource,
update, remove, the checks on a set, and the size limit; an item with
4,000 groups costs about what the same stanza costs without them (the
check for a group named twice is not quadratic, issue 11 finding 21)."""
import asyncio
import os

from xdtest import RawClient, send_iq, check, login, logout, main

NS = "jabber:iq:roster"



def query(iq):
    return iq.xml.find("{%s}query" % NS)


def items(iq):
    q = query(iq)
    return {} if q is None else {
        i.get("jid"): (i.get("name"), i.get("subscription"),
                       sorted(g.text for g in i.findall("{%s}group" % NS)))
        for i in q.findall("{%s}item" % NS)}


def cpu_s(pid):
    """User and system CPU seconds the process has used."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def many_groups(rig):
    """Twenty sets of one item with 4,000 distinct groups (about 220 KB
    each), against twenty stanzas as large whose 4,000 children are not
    groups: the router's CPU must not grow with the square of the
    groups. (Before the fix: 1.9 s against 0.03 s.)"""
    c = RawClient(rig)
    c.login("bulk", "pencil")
    c.bind("r")
    pid = rig.xmppd.p.pid

    def cost(child, tag):
        body = "".join("<%s>%s%04d</%s>" % (child, "g" * 40, i, child)
                       for i in range(4000))
        before = cpu_s(pid)
        for j in range(20):
            c.send("<iq type='set' id='%s%d'><query xmlns='%s'><item "
                   "jid='many@localhost'>%s</item></query></iq>"
                   % (tag, j, NS, body))
        reply = c.expect("id='%s19'" % tag, timeout=60) + c.expect(">")
        check("type='result'" in reply, "accepted: " + reply[-200:])
        return cpu_s(pid) - before

    with_groups = cost("group", "g")
    without = cost("other", "o")
    check(with_groups < 4 * without + 0.3,
          "4,000 groups cost %.2f s of CPU for 20 sets, %.2f s without"
          % (with_groups, without))
    c.drop()


async def test(rig):
    rig.adduser("bulk@localhost", "pencil")
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    a1 = await login(rig, "alice@localhost/one", "pencil")
    a2 = await login(rig, "alice@localhost/two", "pencil")
    pushes = asyncio.Queue()
    a2.add_event_handler("roster_update", pushes.put_nowait)

    res, err = await send_iq(a1, "get", "<query xmlns='%s'/>" % NS)
    check(err is None and items(res) == {} and query(res).get("ver") == "0",
          "an empty roster, version 0")
    await send_iq(a2, "get", "<query xmlns='%s'/>" % NS)  # interested

    res, err = await send_iq(
        a1, "set", "<query xmlns='%s'><item jid='Bob@Localhost' name='Bob'>"
        "<group>Friends</group><group>Work</group></item></query>" % NS)
    check(err is None, "a roster set is accepted")
    push = await asyncio.wait_for(pushes.get(), 10)
    check(items(push) == {"bob@localhost": ("Bob", "none",
                                            ["Friends", "Work"])}
          and query(push).get("ver") == "1",
          "the other resource gets the push, prepared JID, version 1")

    res, _ = await send_iq(a1, "get", "<query xmlns='%s' ver='1'/>" % NS)
    check(query(res) is None, "an up-to-date version gets an empty result")
    res, _ = await send_iq(a1, "get", "<query xmlns='%s' ver='0'/>" % NS)
    check(items(res) == {"bob@localhost": ("Bob", "none",
                                           ["Friends", "Work"])}
          and query(res).get("ver") == "1", "an old version gets the roster")

    await send_iq(a1, "set", "<query xmlns='%s'><item jid='bob@localhost' "
                    "name='Robert'/></query>" % NS)
    push = await asyncio.wait_for(pushes.get(), 10)
    check(items(push) == {"bob@localhost": ("Robert", "none", [])}
          and query(push).get("ver") == "2", "an update is pushed")

    bad = [
        ("<item jid='a@localhost'/><item jid='b@localhost'/>", "bad-request",
         "two items"),
        ("<item jid='a@localhost' subscription='both'/>", "bad-request",
         "a subscription attribute"),
        ("<item jid='a@localhost'><group>x</group><group>x</group></item>",
         "bad-request", "a duplicate group"),
        ("<item jid='a@localhost'><group></group></item>", "not-acceptable",
         "an empty group"),
        ("<item jid='@bad'/>", "bad-request", "a malformed JID"),
        ("<item jid='nobody@localhost' subscription='remove'/>",
         "item-not-found", "removing what is not there"),
    ]
    for payload, want, what in bad:
        _, err = await send_iq(a1, "set", "<query xmlns='%s'>%s</query>"
                                 % (NS, payload))
        check(err == want, "%s: %s (got %s)" % (what, want, err))

    await send_iq(a1, "set", "<query xmlns='%s'><item jid='bob@localhost' "
                    "subscription='remove'/></query>" % NS)
    push = await asyncio.wait_for(pushes.get(), 10)
    check(items(push) == {"bob@localhost": (None, "remove", [])},
          "a removal is pushed")
    res, _ = await send_iq(a1, "get", "<query xmlns='%s'/>" % NS)
    check(items(res) == {} and query(res).get("ver") == "3",
          "the roster is empty again, version 3 (failed sets change nothing)")

    # The limit (roster_max_items = 3 in this test).
    for n in range(3):
        _, err = await send_iq(a1, "set", "<query xmlns='%s'><item "
                                 "jid='c%d@localhost'/></query>" % (NS, n))
        check(err is None, "item %d of 3" % (n + 1))
    _, err = await send_iq(a1, "set", "<query xmlns='%s'><item "
                             "jid='c3@localhost'/></query>" % NS)
    check(err == "not-allowed", "a fourth item: not-allowed (got %s)" % err)
    _, err = await send_iq(a1, "set", "<query xmlns='%s'><item "
                             "jid='c0@localhost' name='still fine'/></query>"
                             % NS)
    check(err is None, "updating an item of a full roster works")
    await logout(a1, a2)
    await asyncio.get_event_loop().run_in_executor(None, many_groups, rig)


main(test, roster_max_items=3, c2s_max_bytes_per_s=0)
