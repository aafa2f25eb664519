"""Several virtual hosts in one xmppd: each with its own accounts, the
same user name on two hosts being two accounts, messages between hosts,
and each host answering for itself."""
import asyncio


from xdtest import can_login, check, login, logout, main, next_message



async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.adduser("alice@example.test", "other")
    rig.start_xmppd()
    r = rig.ctl("listusers", "example.test")
    check(r.stdout.split() == ["alice@example.test"],
          "accounts are listed per host")
    check(not await can_login(rig, "alice@example.test", "pencil"),
          "alice@example.test is not alice@localhost")
    a1 = await login(rig, "alice@localhost/x", "pencil")
    a2 = await login(rig, "alice@example.test/y", "other")
    for c in (a1, a2):
        c.send_presence()
    await asyncio.sleep(0.3)
    for c in (a1, a2):
        while not c.messages.empty():
            c.messages.get_nowait()
    a1.send_message(mto="alice@example.test", mbody="across", mtype="chat")
    m = await next_message(a2)
    check(str(m["from"]) == "alice@localhost/x" and m["body"] == "across",
          "a message from one host to the other")
    info = await a2["xep_0030"].get_info(jid="example.test", timeout=10)
    check(("server", "im", None, "xmppd") in
          info["disco_info"]["identities"], "each host answers disco")
    await logout(a1, a2)


main(test, hosts="localhost example.test")
