"""Connections quiet for a while give their parser's memory back (a sweep
every 10 s); the next stanza rebuilds it from the stream header. Both
directions still work afterwards, on plaintext with STARTTLS done and on
direct TLS, and from a client on a bare socket."""
import asyncio
import re

from xdtest import RawClient, check, login, logout, main, next_message


def raw_session(rig):
    c = RawClient(rig)
    c.login("carol", "pencil")
    c.bind("raw")
    return c


def compacted(rig):
    """How many connections xmppd's sweeps have compacted so far (a
    debug line: at info, a sweep every 10 s would be noise)."""
    return sum(int(n) for n in re.findall(
        r"c2s: debug: (\d+) quiet connection\(s\) compacted",
        rig.xmppd.text()))


def raw_send(c):
    c.send("<message to='alice@localhost/a' type='chat'><body>from raw"
           "</body></message>")


async def test(rig):
    for u in ("alice", "bob", "carol"):
        rig.adduser("%s@localhost" % u, "pencil")
    with open(rig.config) as f:
        text = f.read()
    with open(rig.config, "w") as f:
        f.write(text.replace("log_level = info", "log_level = debug", 1))
    rig.start_xmppd()
    loop = asyncio.get_event_loop()
    a = await login(rig, "alice@localhost/a", "pencil")
    b = await login(rig, "bob@localhost/b", "pencil", direct_tls=True)
    c = await loop.run_in_executor(None, raw_session, rig)
    a.send_message(mto="bob@localhost/b", mbody="before", mtype="chat")
    check((await next_message(b))["body"] == "before", "before the sweep")

    # A sweep every 10 s compacts what has been quiet for 10 s: the three
    # may go in one sweep or over two, depending on where the sweeps fall.
    deadline = loop.time() + 25
    while compacted(rig) < 3 and loop.time() < deadline:
        await asyncio.sleep(0.5)
    check(compacted(rig) == 3, "the sweeps compacted the three connections "
          "(%d)" % compacted(rig))
    for n in range(3):
        a.send_message(mto="bob@localhost/b", mbody="after %d" % n,
                       mtype="chat")
        check((await next_message(b))["body"] == "after %d" % n,
              "STARTTLS to direct TLS after the sweep (%d)" % n)
    b.send_message(mto="alice@localhost/a", mbody="back", mtype="chat")
    check((await next_message(a))["body"] == "back", "and back")
    await loop.run_in_executor(None, raw_send, c)
    check((await next_message(a))["body"] == "from raw",
          "a raw client's next stanza after the sweep")
    c.drop()
    await logout(a, b)


main(test)
