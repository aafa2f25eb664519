"""XEP-0077 in-band registration: off by default (no feature, and
service-unavailable); on, python3-slixmpp's xep_0077 plugin creates an
account and logs in with it; a taken name gets conflict, a bad one
not-acceptable, a second account from the same address too soon
resource-constraint; an account changes its password and cancels itself
(its other session ends with not-authorized)."""
import asyncio

from slixmpp.exceptions import IqError

from xdtest import (Client, RawClient, Rig, can_login, check, login, logout,
                    main)


def run(f, *args):
    return asyncio.get_event_loop().run_in_executor(None, f, *args)


def raw_register(rig, payload):
    c = RawClient(rig)
    feats = c.expect("</stream:features>")
    c.send("<iq type='set' id='r1'><query xmlns='jabber:iq:register'>%s"
           "</query></iq>" % payload)
    reply = c.expect("</iq>")
    c.drop()
    return feats, reply


def raw_get(rig):
    c = RawClient(rig)
    feats = c.expect("</stream:features>")
    c.send("<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>")
    reply = c.expect("</iq>")
    c.drop()
    return feats, reply


async def register_with_slixmpp(rig, jid, password):
    c = Client(jid, password)
    c.register_plugin("xep_0004")
    c.register_plugin("xep_0077")
    c["xep_0077"].force_registration = True
    # slixmpp 1.8 holds every iq back until the session starts, which
    # in-band registration (before authentication) cannot wait for.
    c._always_send_everything = True
    done = asyncio.Future()

    async def on_register(form):
        iq = c.Iq(stype="set")
        iq["register"]["username"] = c.boundjid.user
        iq["register"]["password"] = password
        try:
            await iq.send()
            done.set_result("ok")
        except IqError as e:
            done.set_result(e.iq["error"]["condition"])
    c.add_event_handler("register", on_register)
    c.connect(address=("127.0.0.1", rig.c2s_port))
    result = await asyncio.wait_for(done, 10)
    if result == "ok":
        await asyncio.wait_for(c.started.wait(), 10)
    return c, result


async def test(rig):
    # Off by default.
    off = Rig()
    off.start_xmppd()
    feats, reply = await run(raw_get, off)
    check("iq-register" not in feats, "no feature when registration is off")
    check("service-unavailable" in reply, "refused when off: " + reply)
    off.close()

    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    feats, reply = await run(raw_get, rig)
    check("http://jabber.org/features/iq-register" in feats, "feature")
    check("<username/>" in reply and "<password/>" in reply, "the form")
    feats, reply = await run(raw_register, rig,
                             "<username>alice</username>"
                             "<password>x</password>")
    check("<conflict" in reply, "a taken name: conflict")
    check("<password>x</password>" not in reply,
          "the error does not carry the password back")
    feats, reply = await run(raw_register, rig,
                             "<username>new@bie</username>"
                             "<password>x</password>")
    check("not-acceptable" in reply, "a name that is no localpart")
    feats, reply = await run(raw_register, rig, "<username>nopass</username>")
    check("not-acceptable" in reply, "no password")

    c, result = await register_with_slixmpp(rig, "newbie@localhost", "s3cr3t")
    check(result == "ok", "slixmpp registered an account: %s" % result)
    check(c.started.is_set(), "and logged in with it")
    await logout(c)
    check(await can_login(rig, "newbie@localhost", "s3cr3t"),
          "the account exists")

    feats, reply = await run(raw_register, rig,
                             "<username>second</username>"
                             "<password>x</password>")
    check("resource-constraint" in reply, "the same address, too soon")
    check(not await can_login(rig, "second@localhost", "x"), "not created")

    # An account changes its password, then cancels itself.
    n1 = await login(rig, "newbie@localhost/one", "s3cr3t")
    n2 = await login(rig, "newbie@localhost/two", "s3cr3t")
    iq = n1.Iq(stype="set")
    iq["register"]["username"] = "newbie"
    iq["register"]["password"] = "changed"
    await iq.send()
    check(not await can_login(rig, "newbie@localhost", "s3cr3t"),
          "the old password is refused")
    check(await can_login(rig, "newbie@localhost", "changed"),
          "the new one works")
    n1.register_plugin("xep_0077")
    await n1["xep_0077"].cancel_registration()
    cond = await asyncio.wait_for(n2.stream_error, 10)
    check(cond == "not-authorized", "the other session ends: %s" % cond)
    check(not await can_login(rig, "newbie@localhost", "changed"),
          "a cancelled account cannot log in")
    await logout(n1, n2)


main(test, registration="true", registration_interval_s=60)
