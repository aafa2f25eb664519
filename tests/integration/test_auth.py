"""Wrong passwords and unknown users are refused with not-authorized, and
nothing but STARTTLS is offered before TLS."""
from xdtest import Client, TIMEOUT, check, passed, login, logout, main, raw_stream, \
    read_until, read_until_closed
import asyncio


async def refused(rig, jid, password, mech):
    c = Client(jid, password, mech)
    c.connect(address=("127.0.0.1", rig.c2s_port))
    await asyncio.wait(
        [asyncio.ensure_future(c.started.wait()),
         asyncio.ensure_future(c.auth_failed.wait())],
        timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    ok = c.auth_failed.is_set() and not c.started.is_set()
    c.disconnect()
    return ok


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    for mech in ("SCRAM-SHA-1", "SCRAM-SHA-256", "PLAIN"):
        check(await refused(rig, "alice@localhost", "wrong", mech),
              "%s: a wrong password is refused" % mech)
        check(await refused(rig, "nobody@localhost", "pencil", mech),
              "%s: an unknown user is refused" % mech)
    c = await login(rig, "alice@localhost", "pencil")
    passed("the right password still works after failures")
    await logout(c)

    # Raw: what is offered before TLS, and a SASL attempt in the clear.
    s = raw_stream(rig.c2s_port)
    features = read_until(s, "</stream:features>")
    check("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/>"
          in features, "STARTTLS is offered and required")
    check("mechanisms" not in features, "no SASL mechanism before TLS")
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              b"mechanism='PLAIN'>AGFsaWNlAHBlbmNpbA==</auth>")
    reply = read_until(s, "</failure>")
    check("<encryption-required/>" in reply,
          "SASL before TLS gets encryption-required")
    s.sendall(b"<message to='alice@localhost'><body>x</body></message>")
    check("<not-authorized" in read_until_closed(s),
          "a stanza before authentication ends the stream with "
          "not-authorized")
    s.close()

    # Five failures on one connection end it (RFC 6120 6.4.5).
    s = raw_stream(rig.c2s_tls_port, tls=True)
    read_until(s, "</stream:features>")
    for _ in range(5):
        s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                  b"mechanism='PLAIN'>AGFsaWNlAHdyb25n</auth>")
    rest = read_until_closed(s)
    check(rest.count("<not-authorized/>") == 5
          and "<policy-violation" in rest,
          "five failed attempts close the stream with policy-violation")
    s.close()


# Many failures from 127.0.0.1 here: the per-address limit has its own test.
main(test, sasl_ip_max_failures=1000)
