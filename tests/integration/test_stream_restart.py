"""Nothing crosses a stream restart (RFC 6120 5.3.3, 6.4.6): bytes a
client sends in the same TCP segment after <starttls/> or after the SASL
exchange that succeeds are dropped, never read by the old parser.

- STARTTLS injection: a man in the middle appends a clear-text PLAIN
  <auth/> with its own credentials after the victim's <starttls/>; the
  victim's TLS stream must not start logged in as the attacker.
- An iq pipelined right after a successful <auth/> reached code that
  needs a bound JID (jabber:iq:register password change): the router
  crashed.
- A header pipelined after <success/> is dropped as well: the new stream
  starts with the header the client sends once it has seen <success/>.
"""
import asyncio
import base64
import socket
import ssl

import xdtest
from xdtest import check, passed

AUTH = ("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>"
        "%s</auth>")
HEADER = ("<stream:stream to='localhost' xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")


def plain(user, password):
    return AUTH % base64.b64encode(
        ("\0%s\0%s" % (user, password)).encode()).decode()


def tls_wrap(raw):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx.wrap_socket(raw.s)


def starttls_injection(rig):
    c = xdtest.RawClient(rig, tls=False)
    c.expect("</stream:features>")
    c.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>" +
           plain("mallory", "mallory-pw"))
    c.expect("<proceed")
    c.s = tls_wrap(c)
    c.buf = ""
    c.send(HEADER)
    features = c.expect("</stream:features>")
    check("<mechanisms" in features and "<bind" not in features,
          "after STARTTLS the stream is not authenticated (an <auth/> sent "
          "in the clear after <starttls/> was dropped)")
    c.send(plain("alice", "alice-pw"))
    c.expect("<success")
    c.send(HEADER)
    check("<bind" in c.expect("</stream:features>"),
          "the client then logs in as itself")
    check("alice@localhost/r" in c.bind("r"), "and binds as alice")
    c.drop()


def iq_after_success(rig):
    c = xdtest.RawClient(rig, tls=True)
    c.expect("</stream:features>")
    c.send(plain("alice", "alice-pw") +
           "<iq type='set' id='pw1'><query xmlns='jabber:iq:register'>"
           "<username>alice</username><password>hijacked</password>"
           "</query></iq>" +
           "<iq type='set' id='gone'><query xmlns='jabber:iq:register'>"
           "<remove/></query></iq>")
    c.expect("<success")
    c.send(HEADER)
    features = c.expect("</stream:features>")
    check("<bind" in features, "the new stream starts after <success/>")
    check("id='pw1'" not in c.buf and "id='gone'" not in c.buf,
          "the iqs pipelined after <auth/> got no answer")
    check("alice@localhost/r" in c.bind("r"), "the session binds")
    c.drop()
    # The router is alive and the password did not change.
    c = xdtest.RawClient(rig, tls=True)
    c.login("alice", "alice-pw")
    check("alice@localhost/r2" in c.bind("r2"),
          "alice still logs in with her own password")
    c.drop()


def header_after_success(rig):
    c = xdtest.RawClient(rig, tls=True)
    c.expect("</stream:features>")
    c.send(plain("alice", "alice-pw") + HEADER)
    c.expect("<success")
    c.s.settimeout(0.5)
    try:
        extra = c.s.recv(65536).decode(errors="replace")
    except socket.timeout:
        extra = ""
    check("<stream:features" not in c.buf + extra,
          "a header pipelined with <auth/> opens no stream")
    c.buf += extra
    c.send(HEADER)
    check("<bind" in c.expect("</stream:features>"),
          "the header sent after <success/> does")
    c.drop()


async def test(rig):
    rig.adduser("alice@localhost", "alice-pw")
    rig.adduser("mallory@localhost", "mallory-pw")
    rig.start_xmppd()
    loop = asyncio.get_event_loop()
    for case in (starttls_injection, iq_after_success, header_after_success):
        await loop.run_in_executor(None, case, rig)
    check(rig.xmppd.p.poll() is None, "the router is still running")
    passed("nothing crossed a stream restart")


xdtest.main(test, c2s_require_tls="true")
