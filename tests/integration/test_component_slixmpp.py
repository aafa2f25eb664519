"""A third-party XEP-0114 implementation (slixmpp's ComponentXMPP) connects
to xmppd and exchanges stanzas with a client; a wrong secret gets
not-authorized and a second connection for a bound domain gets conflict."""
import asyncio
import hashlib
import re

import slixmpp
from slixmpp.componentxmpp import ComponentXMPP

from xdtest import TIMEOUT, check, passed, login, logout, main, next_message, \
    raw_stream, read_until, read_until_closed


class Comp(ComponentXMPP):
    def __init__(self, rig):
        super().__init__("comp.localhost", rig.secret, "127.0.0.1",
                         rig.component_port)
        self.messages = asyncio.Queue()
        self.started = asyncio.Event()
        self.add_event_handler("session_start",
                               lambda ev: self.started.set())
        self.add_event_handler("message", self.messages.put_nowait)


def handshake(rig, secret, domain="comp.localhost"):
    """Raw XEP-0114 handshake; returns what the router sent back."""
    s = raw_stream(rig.component_port, to=domain,
                   ns="jabber:component:accept")
    header = read_until(s, ">")
    sid = re.search(r"id='([^']+)'", header).group(1)
    digest = hashlib.sha1((sid + secret).encode()).hexdigest()
    s.sendall(("<handshake>%s</handshake>" % digest).encode())
    return s


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    comp = Comp(rig)
    comp.connect()
    await asyncio.wait_for(comp.started.wait(), TIMEOUT)
    rig.xmppd.wait_log("component comp.localhost connected")
    passed("slixmpp's ComponentXMPP completes the handshake")

    c = await login(rig, "alice@localhost/desk", "pencil")
    c.send_message(mto="bot@comp.localhost", mbody="hi bot", mtype="chat")
    m = await asyncio.wait_for(comp.messages.get(), TIMEOUT)
    check(str(m["from"]) == "alice@localhost/desk"
          and str(m["to"]) == "bot@comp.localhost"
          and m["body"] == "hi bot",
          "the component gets the client's message, from its full JID")
    comp.send_message(mto="alice@localhost/desk", mfrom="bot@comp.localhost",
                      mbody="hi alice", mtype="chat")
    m = await next_message(c)
    check(str(m["from"]) == "bot@comp.localhost" and m["body"] == "hi alice",
          "the client gets the component's message")

    s = handshake(rig, "wrong secret", "echo.localhost")
    out = read_until_closed(s)
    check("<not-authorized" in out, "a wrong secret gets not-authorized")
    s = handshake(rig, rig.secret)
    out = read_until_closed(s)
    check("<conflict" in out, "a second connection for comp.localhost gets "
          "conflict")
    s = raw_stream(rig.component_port, to="unknown.localhost",
                   ns="jabber:component:accept")
    check("<host-unknown" in read_until_closed(s),
          "an unconfigured domain gets host-unknown")

    # A component may only speak for its own domains.
    comp.send_message(mto="alice@localhost/desk", mfrom="evil@localhost",
                      mbody="spoof")
    await asyncio.sleep(0.5)
    check(c.messages.empty(), "a spoofed 'from' is not delivered")
    rig.xmppd.wait_log("refused")
    check("invalid-from" in rig.xmppd.text(),
          "and the component's stream ends with invalid-from")
    await logout(c)
    comp.disconnect()


main(test)
