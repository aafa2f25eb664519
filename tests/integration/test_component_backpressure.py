"""A component that stops reading keeps its link: what the router cannot
queue for it any more is bounced to the sender with resource-constraint
(the framework's components stop reading on purpose while their own output
is backed up), instead of the router ending the link and with it every
session behind the component (issue 11, finding 6, the router's side)."""
import hashlib
import re
import socket

from xdtest import check, login, logout, main, next_message, read_until


def component(rig, domain="comp.localhost"):
    """A raw XEP-0114 component that shakes hands and then reads nothing."""
    s = socket.socket()
    # A small window: the kernel's buffers must not absorb the flood.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", rig.component_port))
    s.sendall(("<stream:stream to='%s' xmlns='jabber:component:accept' "
               "xmlns:stream='http://etherx.jabber.org/streams'>"
               % domain).encode())
    header = read_until(s, ">")
    sid = re.search(r"id='([^']+)'", header).group(1)
    digest = hashlib.sha1((sid + rig.secret).encode()).hexdigest()
    s.sendall(("<handshake>%s</handshake>" % digest).encode())
    read_until(s, "<handshake")
    return s


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    comp = component(rig)
    rig.xmppd.wait_log("component comp.localhost connected")
    c = await login(rig, "alice@localhost/r", "pencil")
    body = "x" * 16000
    # 64 KiB high-water mark: past 256 KiB queued the router refuses more.
    for i in range(400):
        c.send_message(mto="comp.localhost", mbody=body, mtype="chat")
    m = await next_message(c)
    check(m["type"] == "error" and
          m["error"]["condition"] == "resource-constraint",
          "a message the busy component cannot take comes back with "
          "resource-constraint (got %s)" % m["error"]["condition"])
    check("peer reads too slowly" not in rig.xmppd.text(),
          "the router did not end the component's link")
    check(rig.xmppd.text().count("component comp.localhost") == 1,
          "the link is still the first one")
    await logout(c)
    comp.close()


main(test, out_high_water_bytes=65536, c2s_max_bytes_per_s=0)
