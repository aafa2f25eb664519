"""Issue 11, the cheap findings, against a router logging at debug level:
no secret in the log (SASL PLAIN and SCRAM payloads, jabber:iq:register
passwords, the component's handshake digest); peer text cannot forge log
lines; a sender's <stanza-id by=recipient/> is stripped before archiving
and delivery (XEP-0359); TLS 1.2 offers only ECDHE with AEAD ciphers and
TLS 1.3 stays on; the database and its -wal and -shm are owner-only."""
import asyncio
import base64
import os
import re
import socket
import ssl
import xml.etree.ElementTree as ET

from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

from xdtest import (TIMEOUT, RawClient, check, login, logout, main,
                    next_message, raw_stream, read_until_closed)

SID = "urn:xmpp:sid:0"
MAM = "urn:xmpp:mam:2"
ALICE_PW = "Pl41n-alice-S3cret"
ALICE_NEW_PW = "N3w-alice-S3cret"
BOB_PW = "Scr4m-bob-S3cret"


def log_at_debug(rig):
    with open(rig.config) as f:
        text = f.read()
    with open(rig.config, "w") as f:
        f.write(text.replace("log_level = info", "log_level = debug", 1))


def forged_log_line(rig):
    """A stream header whose 'to' holds a newline and a fake log line."""
    s = raw_stream(rig.c2s_port,
                   to="nohost&#10;xmppd[1] c2s: info: mallory@localhost "
                      "authenticated&#13;&#x9b;2J")
    read_until_closed(s)
    s.close()
    lines = rig.xmppd.text().splitlines()
    check(not any(re.match(r"(\S+ )?xmppd\[1\] ", line) for line in lines),
          "a newline in the stream header's 'to' forges no log line")
    check(not any("\r" in line or "\x9b" in line for line in lines),
          "nor does a carriage return or a C1 control (CSI) reach the log")
    check(any("nohost\\nxmppd[1] c2s" in line for line in lines),
          "the newline is logged escaped")


def plain_login_and_password_change(rig):
    """alice logs in with PLAIN and changes her password in band."""
    c = RawClient(rig)
    c.login("alice", ALICE_PW)
    c.bind("raw")
    c.send("<iq type='set' id='pw1'><query xmlns='jabber:iq:register'>"
           "<username>alice</username><password>%s</password></query></iq>"
           % ALICE_NEW_PW)
    reply = c.expect("id='pw1'")
    reply = reply[reply.rindex("<"):] + c.expect(">")
    c.drop()
    return reply


async def mam_ids(client):
    """The (by, id) of the stanza-ids of each message in the client's
    archive."""
    results = []
    client.register_handler(Callback("mam sec", MatchXPath(
        "{jabber:client}message/{%s}result" % MAM), results.append))
    iq = client.Iq(stype="set")
    iq.append(ET.fromstring("<query xmlns='%s' queryid='sec'/>" % MAM))
    await iq.send(timeout=TIMEOUT)
    await asyncio.sleep(0.1)
    client.remove_handler("mam sec")
    out = []
    for r in results:
        m = r.xml.find(".//{jabber:client}message")
        out.append([(s.get("by"), s.get("id"))
                    for s in m.findall("{%s}stanza-id" % SID)])
    return out


async def forged_stanza_ids(rig, bob):
    """alice sends bob messages with stanza-ids claiming to be bob's (and
    one claiming to be her own archive's)."""
    a = await login(rig, "alice@localhost/a", ALICE_NEW_PW)
    forged = ("<stanza-id xmlns='%s' by='bob@localhost' id='forged-1'/>"
              "<stanza-id xmlns='%s' by='BOB@LOCALHOST' id='forged-2'/>"
              "<stanza-id xmlns='%s' by='bob@localhost/b' id='forged-3'/>"
              "<stanza-id xmlns='%s' by='room@conference.localhost' "
              "id='kept-1'/>"
              "<stanza-id xmlns='%s' by='alice@localhost' id='forged-self'/>"
              % (SID, SID, SID, SID, SID))
    for body, extra in (("with a body", "<body>forged ids</body>"),
                        ("without a body",
                         "<active xmlns='http://jabber.org/protocol/"
                         "chatstates'/>")):
        msg = a.Message(sto="bob@localhost", stype="chat")
        for e in ET.fromstring("<x>%s%s</x>" % (extra, forged)):
            msg.append(e)
        msg.send()
        m = await next_message(bob)
        ids = [(s.get("by"), s.get("id"))
               for s in m.xml.findall("{%s}stanza-id" % SID)]
        mine = [i for (by, i) in ids if by.lower().startswith("bob@")]
        check(not any(i.startswith("forged") for i in mine),
              "a message %s reaches bob without the forged ids (%s)"
              % (body, ids))
        check(("room@conference.localhost", "kept-1") in ids,
              "another entity's stanza-id is kept (%s)" % body)
        if body == "with a body":
            check(len(mine) == 1, "the server's own stanza-id is there, "
                  "once (%s)" % ids)
    archived = await mam_ids(bob)
    mine = [[i for (by, i) in ids if by.lower().startswith("bob@")]
            for ids in archived]
    check(len(mine) == 1 and len(mine[0]) == 1 and
          not mine[0][0].startswith("forged"),
          "bob's archive holds only the server's stanza-id (%s)" % archived)
    archived = await mam_ids(a)
    check(len(archived) == 1 and
          not any(by.lower().startswith("alice@") for (by, i) in archived[0]),
          "alice's archived copy lost the id she forged for herself (%s)"
          % archived)
    await logout(a)


def tls_policy(rig):
    def hello(ciphers=None, tls12=True):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if tls12:
            ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        if ciphers:
            ctx.set_ciphers(ciphers)
        try:
            with socket.create_connection(("127.0.0.1", rig.c2s_tls_port),
                                          TIMEOUT) as s:
                with ctx.wrap_socket(s) as t:
                    return t.version(), t.cipher()[0]
        except (ssl.SSLError, ConnectionResetError):
            return None
    for offer in ("AES128-SHA", "AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA",
                  "ECDHE-RSA-AES256-SHA384"):
        got = hello(offer)
        check(got is None, "TLS 1.2 with %s is refused (%s)" % (offer, got))
    got = hello("ECDHE-RSA-AES128-GCM-SHA256")
    check(got == ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
          "TLS 1.2 with ECDHE and AES-GCM works (%s)" % (got,))
    got = hello(tls12=False)
    check(got is not None and got[0] == "TLSv1.3",
          "TLS 1.3 is on (%s)" % (got,))


def file_modes(rig):
    db = rig.xmppd_keys["db_path"]
    for path in (db, db + "-wal", db + "-shm"):
        mode = os.stat(path).st_mode & 0o777
        check(mode & 0o077 == 0, "%s is owner-only (%03o)"
              % (os.path.basename(path), mode))


async def test(rig):
    log_at_debug(rig)
    rig.adduser("alice@localhost", ALICE_PW)
    rig.adduser("bob@localhost", BOB_PW)
    rig.start_xmppd()
    rig.start_echo()
    forged_log_line(rig)

    reply = await asyncio.get_event_loop().run_in_executor(
        None, plain_login_and_password_change, rig)
    check("type='result'" in reply or 'type="result"' in reply,
          "alice changes her password in band")
    bob = await login(rig, "bob@localhost/b", BOB_PW, mech="SCRAM-SHA-1")
    bob.send_presence()
    await asyncio.sleep(0.2)
    while not bob.messages.empty():
        bob.messages.get_nowait()

    await forged_stanza_ids(rig, bob)
    tls_policy(rig)
    file_modes(rig)
    await logout(bob)

    log = rig.xmppd.text()
    plain = base64.b64encode(("\0alice\0" + ALICE_PW).encode()).decode()
    for what, secret in (("alice's password", ALICE_PW),
                         ("alice's PLAIN payload", plain),
                         ("alice's new password", ALICE_NEW_PW),
                         ("bob's password", BOB_PW)):
        check(secret not in log, "the debug log does not hold %s" % what)
    check(re.search(r"<(auth|response|challenge|success)\b[^>]*>"
                    r"[A-Za-z0-9+/=]{8,}<", log) is None,
          "nor any SASL payload")
    check(re.search(r"<handshake[^>]*>[0-9a-f]{40}<", log) is None,
          "nor the component's handshake digest")
    check("in: <iq" in log and "out: <success" in log,
          "(the router did log stanzas at debug level)")
    check("[redacted]" in log, "the log shows where secrets were")


main(test)
