"""Federation (s2s) with Debian's Prosody 0.12 on loopback as the remote
server: dialback over STARTTLS with self-signed certificates, both ways.
xmppd serves xd.s2s.test and Prosody remote.s2s.test, each on port 5269 of
an address of its own under 127/8 (Prosody finds xmppd through a hosts
file of the test's own, read by libunbound; xmppd finds Prosody through
s2s_static_hosts). Checked: messages, a subscription handshake and
presence, and pings in both directions; a domain that accepts the TCP
connection but never answers is bounced with remote-server-timeout in
time; a stanza on an incoming stream from a domain that did not
authenticate gets invalid-from, a stream to a domain xmppd does not
serve gets host-unknown, and a dialback key Prosody does not confirm gets
not-authorized.

SRV (dns.c, c-ares): Prosody's second domain, srv.s2s.test, is in no
static mapping; a dnsmasq started here (s2s_dns_server) gives it two
_xmpp-server._tcp records, the preferred one at a port nothing listens on,
the other at Prosody's own target name (an A record) and port, and no
address of its own: a ping reaches it through the second record. A domain
with no SRV and no address record is bounced with remote-server-not-found
at once.

A Prosody user joins an xmppd-muc room (the service on
rooms.xd.s2s.test, a component domain under xmppd's, which Prosody finds
through its hosts file) and exchanges groupchat with a local occupant."""
import asyncio
import os
import random
import shutil
import socket
import subprocess
import time

import fedtest

from xdtest import Callback, Client, Inbox, MatchXPath, check, \
    free_ports, iq_xml, logout, main, muc_join, next_message, passed, \
    read_until, wait_for

XD, REMOTE, DEAD = "xd.s2s.test", "remote.s2s.test", "dead.s2s.test"
SRV, NXD = "srv.s2s.test", "nxd.s2s.test"
DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
ROOMS = "rooms." + XD
# Addresses of this run's own under 127/8 (others may run the shared rig on
# 127.0.0.2 and .3): xmppd's and Prosody's s2s ports are both 5269.
NET = "127.%d.%d" % (random.randint(100, 250), random.randint(1, 250))
XD_IP, P_IP = NET + ".2", NET + ".3"
P_C2S, DEAD_PORT, DNS_PORT, DOWN_PORT = free_ports(4)
TIMEOUT_S = 3

# A "server" that accepts connections and never says a word.
dead = socket.socket()
dead.bind(("127.0.0.1", DEAD_PORT))
dead.listen(8)


def start_remote_prosody(rig):
    d = os.path.join(rig.dir, "prosody", "certs")
    os.makedirs(d)
    crt, key = os.path.join(d, "remote.crt"), os.path.join(d, "remote.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-days", "2", "-subj", "/CN=" + REMOTE,
                    "-addext", "subjectAltName=DNS:" + REMOTE,
                    "-keyout", key, "-out", crt],
                   check=True, capture_output=True)
    return fedtest.start_remote_prosody(
        rig, P_IP, P_C2S, [(P_IP, REMOTE), (XD_IP, XD), (XD_IP, ROOMS)],
        crt, key, [REMOTE, SRV], secure_auth=False)


def start_dnsmasq(rig):
    p = rig.start("dnsmasq", [
        DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
        "--conf-file=/dev/null", "--listen-address=127.0.0.1",
        "--bind-interfaces", "--port=%d" % DNS_PORT, "--log-facility=-",
        "--pid-file=" + os.path.join(rig.dir, "dnsmasq.pid"),
        # Priority 1 (preferred): a target whose port nothing listens on.
        "--srv-host=_xmpp-server._tcp.%s,down.%s,%d,1" % (SRV, SRV,
                                                          DOWN_PORT),
        "--srv-host=_xmpp-server._tcp.%s,prosody.%s,5269,5" % (SRV, SRV),
        "--address=/down.%s/127.0.0.1" % SRV,
        "--address=/prosody.%s/%s" % (SRV, P_IP),
        # Everything else under s2s.test is NXDOMAIN (nxd.s2s.test).
        "--local=/s2s.test/"])
    p.peer = True  # its exit status on SIGTERM is dnsmasq's business

    def up():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.connect(("127.0.0.1", DNS_PORT))
            return True
        finally:
            s.close()
    wait_for(up, "dnsmasq")
    time.sleep(0.3)


async def connect(jid, pw, addr):
    c = Client(jid, pw)
    c.auto_authorize = True
    c.auto_subscribe = True
    c.seen = {}

    def presence(p):
        if p["type"] in ("available", ""):
            c.seen.setdefault(p["from"].bare, asyncio.Event()).set()
    c.add_event_handler("presence_available", presence)
    c.connect(address=addr)
    await asyncio.wait_for(c.started.wait(), 15)
    c.send_presence()
    await c.get_roster()
    return c


def s2s_raw(to):
    """A stream from evil.test to xmppd's s2s port, through STARTTLS."""
    return fedtest.s2s_starttls(XD_IP, to, "evil.test")


def inboxes(c):
    """c.pres and c.msgs: every presence and message c gets (for MUC)."""
    c.pres, c.msgs = Inbox(), Inbox()
    c.register_handler(Callback("fed pres", MatchXPath(
        "{jabber:client}presence"), c.pres.put))
    c.register_handler(Callback("fed msgs", MatchXPath(
        "{jabber:client}message"), c.msgs.put))


async def remote_muc(rig, a, b):
    """bob (Prosody) joins a room of xmppd-muc that alice made, and they
    exchange groupchat."""
    inboxes(a)
    inboxes(b)
    room = "lobby@" + ROOMS
    p = await muc_join(a, room + "/alice")
    check(p["type"] != "error", "alice creates %s" % room)
    reply, cond, what = await iq_xml(
        a, "set", room, "<query xmlns='http://jabber.org/protocol/muc#owner'>"
        "<x xmlns='jabber:x:data' type='submit'/></query>")
    check(cond is None, "alice unlocks the room (instant room)" + what)
    p = await muc_join(b, room + "/bob")
    check(p["type"] != "error", "bob (Prosody) joins %s across s2s: %s"
          % (room, p))
    await a.pres.get(lambda q: str(q["from"]) == room + "/bob",
                     "alice sees bob's presence in the room", 15)
    b.send_message(mto=room, mbody="hi from prosody", mtype="groupchat")
    m = await a.msgs.get(lambda q: q["type"] == "groupchat" and
                         q["body"] == "hi from prosody",
                         "alice gets bob's groupchat", 15)
    check(str(m["from"]) == room + "/bob", "from the room as bob: %s"
          % m["from"])
    a.send_message(mto=room, mbody="hi from xmppd", mtype="groupchat")
    m = await b.msgs.get(lambda q: q["type"] == "groupchat" and
                         q["body"] == "hi from xmppd",
                         "bob gets alice's groupchat across s2s", 15)
    check(str(m["from"]) == room + "/alice", "from the room as alice: %s"
          % m["from"])
    passed("a Prosody user joins an xmppd-muc room and chats in it")


async def test(rig):
    rig.adduser("alice@" + XD, "alicepw")
    start_dnsmasq(rig)
    # xmppd-muc on a domain under xmppd's own, so that Prosody finds it.
    rig.components.append(ROOMS)
    rig.muc_keys["domain"] = ROOMS
    rig.muc_keys["admins"] = "alice@" + XD
    rig.write_config()
    rig.start_xmppd()
    rig.start_muc()
    start_remote_prosody(rig)
    loop = asyncio.get_event_loop()

    # xmppd's incoming side, before any peer has authenticated.
    s, got = await loop.run_in_executor(None, s2s_raw, "nothere.test")
    check("host-unknown" in got, "a stream to a domain xmppd does not serve "
          "gets host-unknown")
    s.close()
    s, got = await loop.run_in_executor(None, s2s_raw, XD)
    check("urn:xmpp:features:dialback" in got,
          "xmppd offers dialback after STARTTLS")
    s.sendall(("<message from='mallory@evil.test' to='alice@%s' "
               "type='chat'><body>forged</body></message>" % XD).encode())
    got = await loop.run_in_executor(None, read_until, s, "</stream:stream>")
    check("invalid-from" in got, "a stanza from a domain not authenticated "
          "on the stream gets invalid-from")
    s.close()

    a = await connect("alice@%s/a" % XD, "alicepw", ("127.0.0.1",
                                                     rig.c2s_port))
    b = await connect("bob@%s/b" % REMOTE, "bobpw", (P_IP, P_C2S))
    a.send_message(mto="bob@" + REMOTE, mbody="hello prosody", mtype="chat")
    m = await next_message(b, 15)
    check(m["body"] == "hello prosody" and m["from"].bare == "alice@" + XD,
          "alice (xmppd) -> bob (Prosody) over s2s: %s %s"
          % (m["from"], m["body"]))
    check("xd.s2s.test -> remote.s2s.test: outgoing stream authenticated "
          "(dialback, TLS)" in rig.xmppd.text(),
          "xmppd's outgoing stream was authenticated with dialback over TLS")
    b.send_message(mto="alice@" + XD, mbody="hello xmppd", mtype="chat")
    m = await next_message(a, 15)
    check(m["body"] == "hello xmppd" and m["from"].bare == "bob@" + REMOTE,
          "bob (Prosody) -> alice (xmppd) over s2s: %s %s"
          % (m["from"], m["body"]))
    check("incoming stream from remote.s2s.test to xd.s2s.test "
          "authenticated (dialback)" in rig.xmppd.text() and
          "dialback verify from remote.s2s.test for xd.s2s.test: valid"
          in rig.xmppd.text(),
          "Prosody's stream to xmppd was verified with dialback (the "
          "receiving and authoritative roles)")

    a.send_presence_subscription(pto="bob@" + REMOTE)
    await asyncio.wait_for(a.seen.setdefault("bob@" + REMOTE,
                                             asyncio.Event()).wait(), 15)
    passed("alice subscribed to bob and sees his presence")
    await asyncio.wait_for(b.seen.setdefault("alice@" + XD,
                                             asyncio.Event()).wait(), 15)
    passed("bob subscribed back and sees alice's presence")

    await a["xep_0199"].ping(jid=REMOTE, timeout=10)
    passed("alice pings remote.s2s.test across s2s")
    await b["xep_0199"].ping(jid=XD, timeout=10)
    passed("bob pings xd.s2s.test across s2s")
    await a["xep_0199"].ping(jid="bob@%s/b" % REMOTE, timeout=10)
    passed("alice pings bob's full JID across s2s")

    # A key Prosody (authoritative for remote.s2s.test) never gave: xmppd
    # asks it, is told invalid, and ends the stream with not-authorized.
    s, got = await loop.run_in_executor(None, s2s_raw, XD)
    s.sendall(("<db:result from='%s' to='%s'>%s</db:result>"
               % (REMOTE, XD, "0" * 64)).encode())
    got = await loop.run_in_executor(None, read_until, s, "</stream:stream>")
    check("type='invalid'" in got and "not-authorized" in got,
          "a dialback key the authoritative server (Prosody) does not "
          "confirm is refused with not-authorized")
    s.close()

    # SRV: srv.s2s.test has no static mapping and no address record; its
    # preferred SRV target refuses connections, the next one is Prosody.
    await a["xep_0199"].ping(jid=SRV, timeout=10)
    passed("alice pings %s, found through its SRV records" % SRV)
    text = rig.xmppd.text()
    check("connecting to 127.0.0.1 port %d" % DOWN_PORT in text and
          "connecting to %s port 5269" % P_IP in text,
          "xmppd tried the preferred SRV target first, then the next")
    t0 = time.time()
    a.send_message(mto="nobody@" + NXD, mbody="anyone?", mtype="chat")
    m = await next_message(a, 10)
    took = time.time() - t0
    check(m["type"] == "error" and
          m["error"]["condition"] == "remote-server-not-found" and
          took < TIMEOUT_S,
          "a domain with no SRV and no address is bounced with "
          "remote-server-not-found in %.1f s (%s)"
          % (took, m["error"]["condition"]))

    t0 = time.time()
    a.send_message(mto="nobody@" + DEAD, mbody="anyone?", mtype="chat")
    m = await next_message(a, TIMEOUT_S + 10)
    took = time.time() - t0
    check(m["type"] == "error" and
          m["error"]["condition"] == "remote-server-timeout" and
          took < TIMEOUT_S + 3,
          "a domain that never answers is bounced with remote-server-timeout "
          "in %.1f s (%s)" % (took, m["error"]["condition"]))
    await remote_muc(rig, a, b)
    await logout(a, b)


main(test, hosts=XD, s2s_port=5269, s2s_address=XD_IP,
     s2s_connect_timeout_s=TIMEOUT_S,
     s2s_dns_server="127.0.0.1:%d" % DNS_PORT,
     s2s_static_hosts="%s=%s:5269 %s=127.0.0.1:%d"
     % (REMOTE, P_IP, DEAD, DEAD_PORT))
