"""XEP-0199 pings to silent clients (an answering client stays, a silent
one is disconnected with connection-timeout), XEP-0012 last activity (the
host's uptime; an account's, to itself and its subscribers only) and the
XEP-0115 capabilities in the stream features, which must match the
server's disco#info."""
import asyncio
import base64
import hashlib
import re
import time
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xdtest import check, login, logout, main, raw_stream, read_until, \
    read_until_closed

HEADER = ("<stream:stream to='localhost' xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")


def raw_session(rig):
    """A TLS client that logs in and binds, then answers nothing."""
    s = raw_stream(rig.c2s_tls_port, tls=True)
    read_until(s, "</stream:features>")
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              b"mechanism='PLAIN'>AGFsaWNlAHBlbmNpbA==</auth>")
    read_until(s, "<success")
    s.sendall(HEADER.encode())
    features = read_until(s, "</stream:features>")
    s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
              b"xmpp-bind'><resource>mute</resource></bind></iq>")
    read_until(s, "</iq>")
    return s, features


async def last(c, to):
    iq = c.Iq(stype="get", sto=to)
    iq.append(ET.fromstring("<query xmlns='jabber:iq:last'/>"))
    try:
        res = await iq.send(timeout=10)
        return int(res.xml.find("{jabber:iq:last}query").get("seconds")), None
    except slixmpp.exceptions.IqError as e:
        return None, e.iq["error"]["condition"]


async def test(rig):
    for u in ("alice", "bob", "carol"):
        rig.adduser(u + "@localhost", "pencil")
    rig.start_xmppd()

    # A client that answers pings is kept.
    a = await login(rig, "alice@localhost/a", "pencil")
    pings = []
    a.register_handler(Callback("count pings", MatchXPath(
        "{jabber:client}iq/{urn:xmpp:ping}ping"), pings.append))
    await asyncio.sleep(4)
    check(len(pings) >= 1 and a.is_connected(),
          "a silent client is pinged (%d) and, answering, stays" % len(pings))

    # One that does not answer is disconnected. (In a thread: blocking
    # here would stop the slixmpp client above from answering its pings.)
    def silent():
        s, features = raw_session(rig)
        t0 = time.time()
        return features, read_until_closed(s), t0
    features, rest, t0 = await asyncio.get_event_loop().run_in_executor(
        None, silent)
    check("urn:xmpp:ping" in rest and "<connection-timeout" in rest,
          "an unanswered ping ends the stream with connection-timeout "
          "after %.1f s" % (time.time() - t0))

    # Capabilities: the advertised ver is the hash of disco#info.
    m = re.search(r"<c xmlns='http://jabber.org/protocol/caps'[^>]*"
                  r"ver='([^']+)'", features)
    info = await a["xep_0030"].get_info(jid="localhost", timeout=10)
    ids = sorted("%s/%s/%s/%s" % (c, t, l or "", n or "")
                 for c, t, l, n in info["disco_info"]["identities"])
    feats = sorted(info["disco_info"]["features"])
    s = "".join(i + "<" for i in ids) + "".join(f + "<" for f in feats)
    want = base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()
    check(m is not None and m.group(1) == want,
          "caps ver in the stream features matches disco#info (%s)" % want)

    # Last activity.
    secs, err = await last(a, "localhost")
    check(err is None and secs >= 4, "the host's uptime: %s s" % secs)
    b = await login(rig, "bob@localhost/b", "pencil")
    a.send_presence(pto="bob@localhost", ptype="subscribe")
    await asyncio.sleep(0.3)
    b.send_presence(pto="alice@localhost", ptype="subscribed")
    await asyncio.sleep(0.3)
    secs, err = await last(a, "bob@localhost")
    check(secs == 0, "an online contact: 0 s")
    await logout(b)
    await asyncio.sleep(2.2)
    secs, err = await last(a, "bob@localhost")
    check(secs is not None and secs >= 2,
          "a subscriber sees when bob left: %s s ago" % secs)
    c = await login(rig, "carol@localhost/c", "pencil")
    secs, err = await last(c, "bob@localhost")
    check(err == "forbidden", "someone unsubscribed may not: %s" % err)
    await logout(a, c)


main(test, c2s_ping_interval_s=1, c2s_ping_timeout_s=2)
