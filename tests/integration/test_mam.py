"""XEP-0313 message archives with XEP-0059 paging: both sides archive a
conversation; queries filter by peer and time; paging forward with
<after/> and backward with <before/>; stanza-ids on received messages;
preferences (never stops archiving); unknown ids are item-not-found."""
import asyncio
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xdtest import check, login, logout, main, next_message

MAM = "urn:xmpp:mam:2"
RSM = "http://jabber.org/protocol/rsm"


async def mam(c, rsm="", form="", qid="q1"):
    results = []
    handler = "mam " + qid
    c.register_handler(Callback(handler, MatchXPath(
        "{jabber:client}message/{%s}result" % MAM), results.append))
    iq = c.Iq(stype="set")
    x = ("<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' "
         "type='hidden'><value>%s</value></field>%s</x>" % (MAM, form)
         if form else "")
    iq.append(ET.fromstring("<query xmlns='%s' queryid='%s'>%s%s</query>"
                            % (MAM, qid, x, rsm)))
    try:
        res = await iq.send(timeout=10)
        err = None
    except slixmpp.exceptions.IqError as e:
        res, err = e.iq, e.iq["error"]["condition"]
    await asyncio.sleep(0.1)
    c.remove_handler(handler)
    bodies = [r.xml.findtext(".//{jabber:client}body") for r in results]
    ids = [r.xml.find("{%s}result" % MAM).get("id") for r in results]
    fin = res.xml.find("{%s}fin" % MAM)
    return bodies, ids, fin, err


def rsm(max_=None, after=None, before=None):
    s = "<set xmlns='%s'>" % RSM
    if max_ is not None:
        s += "<max>%d</max>" % max_
    if after is not None:
        s += "<after>%s</after>" % after
    if before is not None:
        s += "<before>%s</before>" % before if before else "<before/>"
    return s + "</set>"


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.adduser("carol@localhost", "pencil")
    rig.start_xmppd()
    a = await login(rig, "alice@localhost/a", "pencil")
    b = await login(rig, "bob@localhost/b", "pencil")
    for c in (a, b):
        c.send_presence()
    await asyncio.sleep(0.3)
    for c in (a, b):
        while not c.messages.empty():
            c.messages.get_nowait()

    info = await a["xep_0030"].get_info(jid="alice@localhost", timeout=10)
    check(MAM in info["disco_info"]["features"],
          "the account advertises MAM")
    for n in range(10):
        sender, to = (a, "bob@localhost") if n % 2 == 0 else \
            (b, "alice@localhost")
        sender.send_message(mto=to, mbody="m%d" % n, mtype="chat")
        await next_message(b if n % 2 == 0 else a)
    c = await login(rig, "carol@localhost/c", "pencil")
    c.send_message(mto="alice@localhost", mbody="from carol", mtype="chat")
    m = await next_message(a)
    sid = m.xml.find("{urn:xmpp:sid:0}stanza-id")
    check(sid is not None and sid.get("by") == "alice@localhost",
          "a received message carries alice's stanza-id")

    bodies, ids, fin, err = await mam(a)
    check(err is None and bodies == ["m%d" % n for n in range(10)] +
          ["from carol"] and fin.get("complete") == "true",
          "alice's whole archive, in order, complete")
    check(sid.get("id") == ids[-1], "the stanza-id is the archive id")
    check(fin.findtext("{%s}set/{%s}count" % (RSM, RSM)) == "11",
          "count 11")
    bodies, _, _, _ = await mam(b)
    check(bodies == ["m%d" % n for n in range(10)],
          "bob archived the same conversation")

    form = "<field var='with'><value>bob@localhost</value></field>"
    bodies, ids, fin, _ = await mam(a, rsm(max_=4), form)
    check(bodies == ["m0", "m1", "m2", "m3"] and fin.get("complete") is None,
          "with bob, first page of 4, not complete")
    page, last = list(bodies), fin.findtext("{%s}set/{%s}last" % (RSM, RSM))
    while True:
        bodies, ids, fin, _ = await mam(a, rsm(max_=4, after=last), form)
        page += bodies
        last = fin.findtext("{%s}set/{%s}last" % (RSM, RSM))
        if fin.get("complete") == "true":
            break
    check(page == ["m%d" % n for n in range(10)],
          "paging forward with <after/> gives all ten, once each")

    bodies, ids, fin, _ = await mam(a, rsm(max_=3, before=""), form)
    check(bodies == ["m7", "m8", "m9"], "<before/> gives the last page")
    first = fin.findtext("{%s}set/{%s}first" % (RSM, RSM))
    bodies, _, fin, _ = await mam(a, rsm(max_=3, before=first), form)
    check(bodies == ["m4", "m5", "m6"], "paging back with <before/>")

    future = "<field var='start'><value>2999-01-01T00:00:00Z</value></field>"
    bodies, _, fin, _ = await mam(a, form=future)
    check(bodies == [] and fin.get("complete") == "true",
          "a start in the future finds nothing")
    _, _, _, err = await mam(a, rsm(after="nonexistent"))
    check(err == "item-not-found", "an unknown id: item-not-found")

    iq = a.Iq(stype="set")
    iq.append(ET.fromstring("<prefs xmlns='%s' default='never'/>" % MAM))
    res = await iq.send(timeout=10)
    check(res.xml.find("{%s}prefs" % MAM).get("default") == "never",
          "preferences: never")
    b.send_message(mto="alice@localhost", mbody="unarchived", mtype="chat")
    await next_message(a)
    bodies, _, _, _ = await mam(a)
    check("unarchived" not in bodies, "nothing archived for alice now")
    bodies, _, _, _ = await mam(b)
    check(bodies[-1] == "unarchived", "bob, who did not opt out, has it")
    await logout(a, b, c)


main(test)
