"""Federation with certificates (issue 14): xmppd and Debian's Prosody 0.12
on loopback, each with a certificate for its domain signed by a CA the test
makes, both with s2s_secure_auth = true, so both directions must
authenticate with SASL EXTERNAL (XEP-0178): the log shows it was used
both ways, and messages cross. Prosody also serves wrong.s2s.test with
the same certificate (which names remote.s2s.test only): a message to it
is bounced with remote-server-not-found, the certificate refused. A raw
peer without a certificate that tries dialback under s2s_secure_auth gets
not-authorized. legacy.s2s.test, served by Prosody with the same
certificate but listed in s2s_insecure_domains, is reached through
dialback. Setup as in test_federation.py."""
import asyncio
import atexit
import os
import random
import shutil
import subprocess
import tempfile

import fedtest

from xdtest import Client, check, free_ports, logout, main, next_message, \
    read_until

XD, REMOTE, WRONG = "xd.s2s.test", "remote.s2s.test", "wrong.s2s.test"
LEGACY = "legacy.s2s.test"  # same certificate, in s2s_insecure_domains
NET = "127.%d.%d" % (random.randint(100, 250), random.randint(1, 250))
XD_IP, P_IP = NET + ".2", NET + ".3"
(P_C2S,) = free_ports(1)

PKI = tempfile.mkdtemp(prefix="xdtest-pki-")
os.chmod(PKI, 0o755)
atexit.register(shutil.rmtree, PKI, True)
CA_CRT, CA_KEY = os.path.join(PKI, "ca.crt"), os.path.join(PKI, "ca.key")


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def issue(name):
    """A certificate for DNS name `name` signed by the test CA: paths of
    the certificate and its key."""
    crt, key = os.path.join(PKI, name + ".crt"), os.path.join(PKI, name +
                                                              ".key")
    csr, ext = os.path.join(PKI, name + ".csr"), os.path.join(PKI,
                                                             name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:%s\n" % name)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj",
            "/CN=" + name, "-keyout", key, "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", CA_CRT, "-CAkey", CA_KEY,
            "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", crt)
    for p in (crt, key):
        os.chmod(p, 0o644)
    return crt, key


openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        "-subj", "/CN=xmppd test CA", "-keyout", CA_KEY, "-out", CA_CRT)
os.chmod(CA_CRT, 0o644)
XD_CRT, XD_KEY = issue(XD)
P_CRT, P_KEY = issue(REMOTE)


def start_remote_prosody(rig):
    d = os.path.join(rig.dir, "prosody")
    os.makedirs(d)
    for p in (P_CRT, P_KEY, CA_CRT):
        shutil.copy(p, d)
    crt, key, ca = (os.path.join(d, os.path.basename(p))
                    for p in (P_CRT, P_KEY, CA_CRT))
    return fedtest.start_remote_prosody(
        rig, P_IP, P_C2S, [(P_IP, REMOTE), (XD_IP, XD)], crt, key,
        [REMOTE, WRONG, LEGACY], secure_auth=True, ca=ca)


async def connect(jid, pw, addr):
    c = Client(jid, pw)
    c.connect(address=addr)
    await asyncio.wait_for(c.started.wait(), 15)
    c.send_presence()
    return c


def s2s_raw_dialback():
    """A peer without a certificate that claims remote.s2s.test with
    dialback; returns what xmppd answers until it ends the stream."""
    t, got = fedtest.s2s_starttls(XD_IP, XD, REMOTE)
    t.sendall(("<db:result from='%s' to='%s'>%s</db:result>"
               % (REMOTE, XD, "0" * 64)).encode())
    got += read_until(t, "</stream:stream>")
    t.close()
    return got


async def test(rig):
    rig.adduser("alice@" + XD, "alicepw")
    rig.start_xmppd()
    start_remote_prosody(rig)
    loop = asyncio.get_event_loop()

    got = await loop.run_in_executor(None, s2s_raw_dialback)
    check("EXTERNAL" not in got and "not-authorized" in got,
          "a peer without a certificate is not offered SASL EXTERNAL and "
          "its dialback is refused with not-authorized (s2s_secure_auth)")

    a = await connect("alice@%s/a" % XD, "alicepw", ("127.0.0.1",
                                                     rig.c2s_port))
    b = await connect("bob@%s/b" % REMOTE, "bobpw", (P_IP, P_C2S))
    a.send_message(mto="bob@" + REMOTE, mbody="hello prosody", mtype="chat")
    m = await next_message(b, 15)
    check(m["body"] == "hello prosody" and m["from"].bare == "alice@" + XD,
          "alice (xmppd) -> bob (Prosody): %s %s" % (m["from"], m["body"]))
    check("xd.s2s.test -> remote.s2s.test: outgoing stream authenticated "
          "(SASL EXTERNAL, TLS)" in rig.xmppd.text(),
          "xmppd's outgoing stream was authenticated with SASL EXTERNAL")
    b.send_message(mto="alice@" + XD, mbody="hello xmppd", mtype="chat")
    m = await next_message(a, 15)
    check(m["body"] == "hello xmppd" and m["from"].bare == "bob@" + REMOTE,
          "bob (Prosody) -> alice (xmppd): %s %s" % (m["from"], m["body"]))
    log = rig.xmppd.text()
    check("incoming stream from remote.s2s.test to xd.s2s.test "
          "authenticated (SASL EXTERNAL)" in log,
          "Prosody's stream to xmppd was authenticated with SASL EXTERNAL")
    check("authenticated (dialback" not in log,
          "no stream was authenticated with dialback")

    a.send_message(mto="nobody@" + LEGACY, mbody="old?", mtype="chat")
    m = await next_message(a, 15)
    check(m["type"] == "error" and
          m["error"]["condition"] != "remote-server-not-found" and
          "xd.s2s.test -> legacy.s2s.test: outgoing stream authenticated "
          "(dialback, TLS)" in rig.xmppd.text(),
          "legacy.s2s.test (s2s_insecure_domains), same wrong certificate, "
          "is reached through dialback: Prosody answers (%s)"
          % m["error"]["condition"])

    a.send_message(mto="nobody@" + WRONG, mbody="anyone?", mtype="chat")
    m = await next_message(a, 15)
    check(m["type"] == "error" and
          m["error"]["condition"] == "remote-server-not-found",
          "a message to wrong.s2s.test, whose certificate names "
          "remote.s2s.test only, is bounced (%s)" % m["error"]["condition"])
    check("xd.s2s.test -> wrong.s2s.test: certificate of" in rig.xmppd.text()
          and "s2s_secure_auth)" in rig.xmppd.text(),
          "the log says the certificate was refused under s2s_secure_auth")
    await logout(a, b)


main(test, hosts=XD, s2s_port=5269, s2s_address=XD_IP,
     s2s_connect_timeout_s=5, tls_cert=XD_CRT, tls_key=XD_KEY,
     s2s_secure_auth="true", s2s_ca_file=CA_CRT,
     s2s_static_hosts="%s=%s:5269 %s=%s:5269 %s=%s:5269"
     % (REMOTE, P_IP, WRONG, P_IP, LEGACY, P_IP),
     s2s_insecure_domains=LEGACY)
