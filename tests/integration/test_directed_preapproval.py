"""RFC 6121 4.6 directed presence: a recipient that is not a subscriber
learns when the sender goes away (directed unavailable, broadcast
unavailable, or the connection ending), and only once. RFC 6121 3.4
subscription pre-approval: advertised, kept on the roster item as
approved='true' without a word to the contact, honoured when the contact
asks (the user sees only the roster change), and withdrawn by
unsubscribed. RFC 6121 8.5.1: a request to no such user is answered
unsubscribed."""
import asyncio

from test_presence import NS, client, expect, nothing, pres
from xdtest import RawClient, check, logout, main


def approved_of(push, jid):
    for i in push.xml.iter(NS + "item"):
        if i.get("jid") == jid:
            return i.get("subscription"), i.get("approved")
    return None


async def test(rig):
    for u in ("alice", "bob", "carol", "dave", "erin"):
        rig.adduser("%s@localhost" % u, "pencil")
    rig.start_xmppd()
    alice = await client(rig, "alice@localhost/a")
    bob = await client(rig, "bob@localhost/b")
    bob.send_presence()

    # Directed presence, ended by the connection going away.
    alice.send_presence(pto="bob@localhost/b", pstatus="hi bob")
    await expect(bob.presences, lambda p: p["type"] == "available" and
                 p["status"] == "hi bob", "bob sees alice's directed presence")
    await logout(alice)
    await expect(bob.presences, pres("unavailable", "alice@localhost/a"),
                 "the session ended: bob learns it")

    # Ended by a directed unavailable: nothing more at logout.
    alice = await client(rig, "alice@localhost/a")
    alice.send_presence(pto="bob@localhost/b")
    await expect(bob.presences, pres("available", "alice@localhost/a"),
                 "directed presence again")
    alice.send_presence(pto="bob@localhost/b", ptype="unavailable")
    await expect(bob.presences, pres("unavailable", "alice@localhost/a"),
                 "directed unavailable")
    await logout(alice)
    await nothing(bob.presences, pres("unavailable", "alice@localhost/a"),
                  "second unavailable after a directed one")

    # Ended by broadcast unavailable, once.
    carol = await client(rig, "carol@localhost/c")
    carol.send_presence(pto="bob@localhost/b")
    await expect(bob.presences, pres("available", "carol@localhost/c"),
                 "carol's directed presence")
    carol.send_presence(ptype="unavailable")
    await expect(bob.presences, pres("unavailable", "carol@localhost/c"),
                 "broadcast unavailable reaches a directed recipient")
    await logout(carol)
    await nothing(bob.presences, pres("unavailable", "carol@localhost/c"),
                  "repeated unavailable at logout")

    # Pre-approval.
    raw = RawClient(rig)
    feats = await asyncio.get_event_loop().run_in_executor(
        None, raw.login, "alice", "pencil")
    raw.drop()
    check("<sub xmlns='urn:xmpp:features:pre-approval'/>" in feats,
          "pre-approval is advertised")
    alice = await client(rig, "alice@localhost/a")
    dave = await client(rig, "dave@localhost/d")
    alice.send_presence()
    dave.send_presence()
    alice.send_presence(pto="dave@localhost", ptype="subscribed")
    push = await expect(alice.pushes,
                        lambda p: approved_of(p, "dave@localhost"),
                        "a roster push for the pre-approval")
    check(approved_of(push, "dave@localhost") == ("none", "true"),
          "approved='true', subscription none: %s"
          % (approved_of(push, "dave@localhost"),))
    await nothing(dave.presences, pres("subscribed", "alice@localhost"),
                  "subscribed sent to dave before he asked")
    alice.presences = asyncio.Queue()
    alice.add_event_handler("presence", alice.presences.put_nowait)
    dave.send_presence(pto="alice@localhost", ptype="subscribe")
    await expect(dave.presences, pres("subscribed", "alice@localhost"),
                 "dave's request is approved at once")
    await expect(dave.presences, pres("available", "alice@localhost/a"),
                 "and dave gets alice's presence")
    push = await expect(alice.pushes,
                        lambda p: (approved_of(p, "dave@localhost") or
                                   ("",))[0] == "from",
                        "alice's roster: dave is a subscriber")
    check(approved_of(push, "dave@localhost")[1] is None,
          "the pre-approval is used up")
    await nothing(alice.presences, pres("subscribe", "dave@localhost"),
                  "request shown to alice")

    # A pre-approval withdrawn: the next request is asked again.
    erin = await client(rig, "erin@localhost/e")
    alice.send_presence(pto="erin@localhost", ptype="subscribed")
    await expect(alice.pushes,
                 lambda p: approved_of(p, "erin@localhost") ==
                 ("none", "true"), "erin pre-approved")
    alice.send_presence(pto="erin@localhost", ptype="unsubscribed")
    await expect(alice.pushes,
                 lambda p: approved_of(p, "erin@localhost") == ("none", None),
                 "withdrawn by unsubscribed")
    erin.send_presence(pto="alice@localhost", ptype="subscribe")
    await expect(alice.presences, pres("subscribe", "erin@localhost"),
                 "erin's request goes to alice now")
    await nothing(erin.presences, pres("subscribed", "alice@localhost"),
                  "approval nobody gave")
    # RFC 6121 8.5.1: a request to an account that does not exist.
    alice.send_presence(pto="nobody@localhost", ptype="subscribe")
    await expect(alice.presences, pres("unsubscribed", "nobody@localhost"),
                 "a request to no such user is answered unsubscribed")
    await logout(alice, bob, dave, erin)


main(test)
