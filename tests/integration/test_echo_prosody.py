"""xmppd-echo, unchanged, serves echo.localhost for Prosody (Debian's
prosody 0.12) as the router: the framework speaks standard XEP-0114."""
from xdtest import ECHO, check, passed, login, logout, main, next_message, \
    start_prosody


async def test(rig):
    start_prosody(rig, "echo.localhost", ["alice"], "pencil")
    echo = rig.start("xmppd-echo", [ECHO, "-c", rig.config])
    echo.wait_log("link up")
    passed("xmppd-echo completes the handshake with Prosody")
    c = await login(rig, "alice@localhost/p", "pencil")
    c.send_message(mto="echo.localhost", mbody="hello prosody", mtype="chat")
    m = await next_message(c)
    check(str(m["from"]) == "echo.localhost" and m["body"] == "hello prosody",
          "a Prosody client gets its message echoed by xmppd-echo")
    info = await c["xep_0030"].get_info(jid="echo.localhost", timeout=10)
    check(("component", "generic", None, "Echo")
          in info["disco_info"]["identities"],
          "xmppd-echo answers disco#info through Prosody")
    await logout(c)


main(test)
