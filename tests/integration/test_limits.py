"""Limits with their refusals: resources per account (resource-constraint),
bytes per second per client connection (shaped, not cut), and failed
logins per address (slowed, then refused for a while)."""
import asyncio
import base64
import time

from xdtest import Failure, check, passed, login, logout, main, next_message, \
    raw_stream, read_until

PLAIN = "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>" \
        "%s</auth>"


def plain_attempt(rig, password):
    """One PLAIN login over direct TLS; (reply, seconds it took)."""
    s = raw_stream(rig.c2s_tls_port, tls=True)
    read_until(s, "</stream:features>")
    payload = base64.b64encode(b"\0alice\0" + password.encode()).decode()
    t0 = time.time()
    s.sendall((PLAIN % payload).encode())
    reply = read_until(s, "</")
    took = time.time() - t0
    s.close()
    return reply, took


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()

    # Resources per account: 2 here.
    a1 = await login(rig, "alice@localhost/one", "pencil")
    a2 = await login(rig, "alice@localhost/two", "pencil")
    try:
        a3 = await login(rig, "alice@localhost/three", "pencil")
        await logout(a3)
        raise Failure("a third resource was bound")
    except Failure as e:
        if "third" in str(e):
            raise
    check("2 sessions already" in rig.xmppd.text(),
          "a third resource is refused (resource-constraint)")
    a2b = await login(rig, "alice@localhost/two", "pencil")
    passed("taking over an existing resource is still allowed")
    await logout(a1, a2b)

    # Shaping: 20,000 bytes/s; 100 kB of stanzas take seconds, none lost.
    c = await login(rig, "alice@localhost/bulk", "pencil")
    body = "x" * 5000
    t0 = time.time()
    for n in range(20):
        c.send_message(mto="alice@localhost/bulk", mbody=body, mtype="chat")
    for n in range(20):
        m = await next_message(c, timeout=30)
        if m["body"] != body:
            raise Failure("message %d changed" % n)
    took = time.time() - t0
    check(took >= 3.0, "100 kB at 20 kB/s took %.1f s (shaped)" % took)
    check(c.is_connected(), "and the connection was not cut")
    await logout(c)

    # Failed logins from one address: 4 allowed in the window; the 3rd
    # and 4th answered a second late; then refused, right password or not.
    times = []
    for n in range(4):
        reply, took = plain_attempt(rig, "wrong")
        if "<not-authorized" not in reply:
            raise Failure("attempt %d: %s" % (n + 1, reply))
        times.append(took)
    check(times[0] < 0.5 and times[1] < 0.5,
          "the first failures are answered at once (%.2f, %.2f s)"
          % tuple(times[:2]))
    check(times[2] >= 0.9 and times[3] >= 0.9,
          "later ones a second late (%.2f, %.2f s)" % tuple(times[2:]))
    reply, _ = plain_attempt(rig, "pencil")
    check("<temporary-auth-failure" in reply,
          "then the address is refused, even with the right password")


main(test, max_sessions_per_account=2, c2s_max_bytes_per_s=20000,
     sasl_ip_max_failures=4, sasl_ip_block_s=60)
