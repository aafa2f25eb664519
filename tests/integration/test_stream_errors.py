"""Hostile or broken input ends the stream with the RFC 6120 stream error
that names it, and the server stays up for everyone else."""
from xdtest import check, passed, login, logout, main, raw_stream, read_until, \
    read_until_closed
import socket

CASES = [
    ("a comment", b"<!-- hello -->", "restricted-xml"),
    ("a processing instruction", b"<?foo bar?>", "restricted-xml"),
    ("an unknown entity", b"<message>&lol;</message>", "not-well-formed"),
    ("mismatched tags", b"<message></presence>", "not-well-formed"),
    ("a stanza over max_stanza_bytes",
     b"<message><body>" + b"x" * 20000 + b"</body></message>",
     "policy-violation"),
    ("elements nested too deeply", b"<a>" * 100, "policy-violation"),
]


def stream_error(rig, payload, header=True):
    s = raw_stream(rig.c2s_port) if header else \
        socket.create_connection(("127.0.0.1", rig.c2s_port), timeout=15)
    if header:
        read_until(s, "</stream:features>")
    s.sendall(payload)
    out = read_until_closed(s)
    s.close()
    return out


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    for what, payload, condition in CASES:
        out = stream_error(rig, payload)
        check("<stream:error><%s xmlns='urn:ietf:params:xml:ns:xmpp-streams'"
              % condition in out and out.endswith("</stream:stream>"),
              "%s: %s, then the stream closes" % (what, condition))
    # Before any header.
    out = stream_error(rig, b"<?xml version='1.0'?><!DOCTYPE lolz ["
                       b"<!ENTITY lol 'lol'>]><stream:stream/>", False)
    check("<restricted-xml" in out, "a DTD (billion laughs): restricted-xml")
    out = stream_error(rig, b"<stream:stream xmlns='jabber:client' "
                       b"xmlns:stream='urn:wrong' to='localhost' "
                       b"version='1.0'>", False)
    check("<invalid-namespace" in out, "a wrong stream namespace: "
          "invalid-namespace")
    out = stream_error(rig, b"<stream:stream xmlns='jabber:client' "
                       b"xmlns:stream='http://etherx.jabber.org/streams' "
                       b"to='elsewhere.example' version='1.0'>", False)
    check("<host-unknown" in out, "a host we do not serve: host-unknown")
    out = stream_error(rig, b"<?xml version='1.0' encoding='ISO-8859-1'?>"
                       b"<stream:stream/>", False)
    check("<unsupported-encoding" in out or "<not-well-formed" in out,
          "a non-UTF-8 encoding is refused")
    c = await login(rig, "alice@localhost", "pencil")
    passed("the server still serves clients after all that")
    await logout(c)


if __name__ == "__main__":
    import xdtest
    xdtest.main(test, max_stanza_bytes=10000)
