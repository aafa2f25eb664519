"""Stanzas that cannot be delivered come back with the error RFC 6120 and
RFC 6121 name."""
from xdtest import check, login, logout, main, next_message
import slixmpp


async def error_of(c, to, kind):
    if kind == "message":
        c.send_message(mto=to, mbody="anyone?", mtype="chat")
        m = await next_message(c)
        check(m["type"] == "error" and str(m["from"]) == to,
              "error message from %s" % to)
        return m["error"]["condition"]
    iq = c.Iq(stype="get", sto=to)
    iq.enable("ping")
    try:
        await iq.send(timeout=10)
    except slixmpp.exceptions.IqError as e:
        return e.iq["error"]["condition"]
    return None


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("bob@localhost", "pencil")
    rig.start_xmppd()
    c = await login(rig, "alice@localhost/r", "pencil")
    cases = [
        ("nobody@localhost", "message", "service-unavailable"),
        ("nobody@localhost", "iq", "service-unavailable"),
        # Offline, with offline storage switched off in this test.
        ("bob@localhost", "message", "service-unavailable"),
        ("bob@localhost/gone", "iq", "service-unavailable"),
        ("nowhere.invalid", "message", "remote-server-not-found"),
        ("someone@nowhere.invalid", "iq", "remote-server-not-found"),
        ("offline.localhost", "iq", "service-unavailable"),
        ("comp.localhost", "message", "service-unavailable"),
    ]
    for to, kind, want in cases:
        got = await error_of(c, to, kind)
        check(got == want, "%s to %s: %s (got %s)" % (kind, to, want, got))
    # An iq to the server that it does not know.
    iq = c.Iq(stype="get", sto="localhost")
    iq["query"] = "urn:example:unknown"
    try:
        await iq.send(timeout=10)
        check(False, "unknown namespace answered")
    except slixmpp.exceptions.IqError as e:
        check(e.iq["error"]["condition"] == "service-unavailable",
              "an unknown iq to the server: service-unavailable")
    await logout(c)


main(test, offline_max_messages=0)
