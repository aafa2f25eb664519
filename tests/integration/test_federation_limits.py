"""Limits on incoming server-to-server streams, with raw sockets (no
remote server needed): connections per address and in all
(s2s_max_connections_per_address, s2s_max_connections), the stanza size
before a domain is authenticated (s2s_preauth_max_stanza_bytes), and the
time-out of a stream that never authenticates (s2s_connect_timeout_s)."""
import asyncio
import socket
import time

from xdtest import check, free_ports, main, passed, read_until, \
    read_until_closed

S2S_PORT, = free_ports(1)
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


async def test(rig):
    rig.start_xmppd()
    loop = asyncio.get_event_loop()
    await loop.run_in_executor(None, caps)
    await loop.run_in_executor(None, preauth)
    await loop.run_in_executor(None, auth_timeout)


main(test, s2s_port=S2S_PORT, s2s_address="127.0.0.1", s2s_require_tls=0,
     s2s_connect_timeout_s=TIMEOUT_S, s2s_max_connections=3,
     s2s_max_connections_per_address=2)
