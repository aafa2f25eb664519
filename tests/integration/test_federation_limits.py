"""Limits on incoming server-to-server streams, with raw sockets (no
remote server needed): connections per address and in all
(s2s_max_connections_per_address, s2s_max_connections), the stanza size
before a domain is authenticated (s2s_preauth_max_stanza_bytes), and the
time-out of a stream that never authenticates (s2s_connect_timeout_s).
And the drop of an authenticated outgoing stream: a fake peer (fake.test,
dialback answered "valid" without checking) stops reading, then resets
the connection; the stanzas still in xmppd's output buffer come back to
their sender as remote-server-timeout errors instead of vanishing."""
import asyncio
import re
import socket
import struct
import threading
import time

from xdtest import RawClient, check, free_ports, main, passed, read_until, \
    read_until_closed

S2S_PORT, FAKE_PORT = free_ports(2)
FAKE = "fake.test"
N_MSGS = 6000
TIMEOUT_S = 1
HEADER = ("<?xml version='1.0'?><stream:stream to='localhost' "
          "xmlns='jabber:server' xmlns:db='jabber:server:dialback' "
          "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")


def s2s_open(source="127.0.0.1"):
    """A socket from `source` with our stream header sent, and what the
    server answered up to its features, or all it sent before closing."""
    s = socket.create_connection(("127.0.0.1", S2S_PORT), timeout=3,
                                 source_address=(source, 0))
    s.sendall(HEADER.encode())
    try:
        got = read_until(s, "</stream:features>", timeout=3)
    except (socket.timeout, ConnectionResetError):
        got = ""
    return s, got


def caps():
    a1, g1 = s2s_open()
    a2, g2 = s2s_open()
    check("<stream:features" in g1 and "<stream:features" in g2,
          "two streams from 127.0.0.1 are served")
    a3, g3 = s2s_open()
    check("<stream:features" not in g3,
          "a third from 127.0.0.1 is closed at once "
          "(s2s_max_connections_per_address = 2): %r" % g3[:200])
    passed("s2s_max_connections_per_address")
    b1, g4 = s2s_open("127.0.0.2")
    check("<stream:features" in g4, "one from 127.0.0.2 is served")
    c1, g5 = s2s_open("127.0.0.3")
    check("<stream:features" not in g5,
          "a fourth in all is closed at once (s2s_max_connections = 3)")
    passed("s2s_max_connections")
    a1.close()
    time.sleep(0.3)
    a4, g6 = s2s_open()
    check("<stream:features" in g6, "after one closed, 127.0.0.1 is "
          "served again")
    passed("a closed stream is released")
    for s in (a2, a3, a4, b1, c1):
        s.close()
    time.sleep(0.3)


def preauth():
    s, got = s2s_open()
    check("<stream:features" in got, "stream opened")
    body = "x" * 20000
    s.sendall(("<message from='someone@remote.test' to='alice@localhost'>"
               "<body>%s</body></message>" % body).encode())
    rest = read_until_closed(s)
    check("policy-violation" in rest,
          "a 20 KB stanza before authentication ends the stream with "
          "policy-violation (s2s_preauth_max_stanza_bytes): %r" % rest[:300])
    s.close()
    passed("s2s_preauth_max_stanza_bytes")


def auth_timeout():
    s, got = s2s_open()
    check("<stream:features" in got, "stream opened")
    t0 = time.monotonic()
    s.settimeout(4 * TIMEOUT_S + 3)
    rest = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        rest += chunk
    took = time.monotonic() - t0
    check(b"connection-timeout" in rest and took < 2 * TIMEOUT_S + 2,
          "a stream that authenticates nothing ends with connection-timeout "
          "in %.1f s: %r" % (took, rest[:200]))
    s.close()
    passed("unauthenticated incoming stream times out")


def read_strict(s, needle):
    got = read_until(s, needle, timeout=10)
    if needle not in got:
        raise RuntimeError("fake peer: no %r in %r" % (needle, got[-300:]))
    return got


def fake_peer(lst, state):
    """Accepts xmppd's outgoing stream, says dialback is valid, reads up
    to the first message, then reads nothing until told to reset."""
    c, _ = lst.accept()
    c.settimeout(10)
    read_strict(c, "<stream:stream")
    c.sendall(("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
               "xmlns:db='jabber:server:dialback' "
               "xmlns:stream='http://etherx.jabber.org/streams' "
               "from='%s' id='fakeid123' version='1.0'>"
               "<stream:features/>" % FAKE).encode())
    read_strict(c, "result>")
    c.sendall(("<db:result from='%s' to='localhost' type='valid'/>"
               % FAKE).encode())
    read_strict(c, "id='m0'")
    state["ready"].set()
    state["reset"].wait(30)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                 struct.pack("ii", 1, 0))
    c.close()  # an RST: as from a peer killed with SIGKILL


def drop():
    lst = socket.socket()
    lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    lst.bind(("127.0.0.1", FAKE_PORT))
    lst.listen(1)
    state = {"ready": threading.Event(), "reset": threading.Event()}
    peer = threading.Thread(target=fake_peer, args=(lst, state), daemon=True)
    peer.start()
    alice = RawClient(RIG)
    alice.login("alice", "pw")
    alice.bind("r")
    got = []

    def reader():
        alice.s.settimeout(0.5)
        quiet = 0
        while quiet < 8:
            try:
                chunk = alice.s.recv(65536)
            except socket.timeout:
                quiet += 1 if state["reset"].is_set() else 0
                continue
            if not chunk:
                break
            got.append(chunk)
            quiet = 0

    body = "y" * 1000
    msg = ("<message to='bob@%s' id='m%%d' type='chat'><body>%s</body>"
           "</message>" % (FAKE, body))
    alice.send(msg % 0)
    check(state["ready"].wait(10), "the fake peer got the first message "
          "over an authenticated stream")
    rd = threading.Thread(target=reader, daemon=True)
    rd.start()
    alice.send("".join(msg % i for i in range(1, N_MSGS + 1)))
    time.sleep(1.5)
    state["reset"].set()
    rd.join(20)
    text = (alice.buf.encode() + b"".join(got)).decode(errors="replace")
    errors = re.findall(r"<message[^>]*type=.error.[^>]*>.*?</message>", text,
                        re.S)
    timeouts = [e for e in errors if "remote-server-timeout" in e]
    ids = [re.search(r"id=.(m\d+)", e).group(1) for e in timeouts]
    check(len(timeouts) > 0,
          "stanzas in xmppd's buffer when the authenticated stream dropped "
          "are bounced with remote-server-timeout (%d of %d; %d errors in "
          "all)" % (len(timeouts), N_MSGS, len(errors)))
    check(len(set(ids)) == len(ids), "each bounced once")
    check("m0" not in ids, "not the one the peer read")
    first = int(ids[0][1:])
    check(ids == ["m%d" % i for i in range(first, N_MSGS + 1)],
          "the bounced are the newest, m%d to m%d, in order" % (first, N_MSGS))
    check(all("<body>" in e for e in timeouts), "each bounce carries its "
          "original")
    alice.drop()
    lst.close()
    passed("unsent stanzas of a dropped s2s stream are bounced")


RIG = None


async def test(rig):
    global RIG
    RIG = rig
    rig.start_xmppd()
    rig.adduser("alice@localhost", "pw")
    loop = asyncio.get_event_loop()
    await loop.run_in_executor(None, caps)
    await loop.run_in_executor(None, preauth)
    await loop.run_in_executor(None, auth_timeout)
    await loop.run_in_executor(None, drop)


main(test, s2s_port=S2S_PORT, s2s_address="127.0.0.1", s2s_require_tls=0,
     s2s_connect_timeout_s=TIMEOUT_S, s2s_max_connections=3,
     s2s_max_connections_per_address=2, c2s_max_bytes_per_s=0,
     out_high_water_bytes=4194304,
     s2s_static_hosts="%s=127.0.0.1:%d" % (FAKE, FAKE_PORT))
