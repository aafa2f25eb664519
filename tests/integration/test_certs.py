"""Certificates per host and listeners on several addresses.

Three hosts: localhost with the default certificate (tls_cert), alpha.test
as alpha.test.crt/.key and beta.test in Let's Encrypt's layout
(beta.test/fullchain.pem, privkey.pem) in tls_cert_dir. A client asking
for a host by SNI (direct TLS and STARTTLS) gets that host's certificate;
no SNI or an unknown name gets the default; a stream to a host the
certificate shown does not cover is logged. A reload after a certificate
was replaced serves the new one; a broken folder fails the reload and the
old certificates stay. The client listeners are on 127.0.0.1 and ::1 at
once: a client logs in over each, and the per-address cap holds for IPv6.
"""
import os
import socket
import ssl
import subprocess

from xdtest import (TIMEOUT, Failure, check, main, passed, read_until,
                    wait_for)

HOSTS = ("alpha.test", "beta.test")


def make_cert(name, cert, key):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
         "-subj", "/CN=" + name, "-addext", "subjectAltName=DNS:" + name,
         "-keyout", key, "-out", cert],
        check=True, capture_output=True)
    os.chmod(key, 0o600)


def der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def tls_ctx():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(addr, port):
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect((addr, port))
    return s


def header(to):
    return ("<?xml version='1.0'?><stream:stream to='%s' "
            "xmlns='jabber:client' "
            "xmlns:stream='http://etherx.jabber.org/streams' "
            "version='1.0'>" % to).encode()


def direct(rig, sni, to=None, addr="127.0.0.1"):
    """Direct TLS asking for sni (None: no SNI); sends a header to `to`
    when given and waits for the features. Returns (DER of the
    certificate shown, socket)."""
    s = tls_ctx().wrap_socket(connect(addr, rig.c2s_tls_port),
                              server_hostname=sni)
    if to is not None:
        s.sendall(header(to))
        read_until(s, "</stream:features>")
    return s.getpeercert(binary_form=True), s


def starttls(rig, host, addr="127.0.0.1"):
    """STARTTLS on the plain port for `host` (SNI and stream); returns the
    TLS socket with the stream restarted and its features read."""
    s = connect(addr, rig.c2s_port)
    s.sendall(header(host))
    read_until(s, "</stream:features>")
    s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    read_until(s, "<proceed")
    s = tls_ctx().wrap_socket(s, server_hostname=host)
    s.sendall(header(host))
    read_until(s, "</stream:features>")
    return s


def login(s, user, host, password):
    import base64
    cred = base64.b64encode(("\0%s\0%s" % (user, password)).encode())
    s.sendall(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
              b"mechanism='PLAIN'>" + cred + b"</auth>")
    got = read_until(s, "success")
    if "<success" not in got:
        raise Failure("login of %s@%s: %r" % (user, host, got))
    s.sendall(header(host))
    read_until(s, "</stream:features>")
    s.sendall(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:"
              b"ns:xmpp-bind'><resource>r</resource></bind></iq>")
    return read_until(s, "</iq>")


def reload(rig, needle):
    before = rig.xmppd.text().count(needle)
    rig.ctl("reload")
    wait_for(lambda: rig.xmppd.text().count(needle) > before, needle)


async def test(rig):
    certs = os.path.join(rig.dir, "certs")
    os.makedirs(os.path.join(certs, "beta.test"))
    files = {
        "alpha.test": (os.path.join(certs, "alpha.test.crt"),
                       os.path.join(certs, "alpha.test.key")),
        "beta.test": (os.path.join(certs, "beta.test", "fullchain.pem"),
                      os.path.join(certs, "beta.test", "privkey.pem")),
    }
    for h in HOSTS:
        make_cert(h, *files[h])
    with open(os.path.join(certs, "README"), "w") as f:
        f.write("not a certificate: skipped\n")
    rig.xmppd_keys.update({
        "hosts": "localhost alpha.test beta.test",
        "tls_cert_dir": certs,
        "c2s_address": "127.0.0.1 [::1]",
        "component_address": "127.0.0.1 ::1",
    })
    rig.write_config()
    rig.adduser("amy@alpha.test", "pw-alpha")
    rig.adduser("bob@beta.test", "pw-beta")
    rig.start_xmppd()
    log = rig.xmppd.text()
    check("2 certificate(s) from" in log and
          "no certificate covers" not in log,
          "two certificates found in tls_cert_dir, every host covered")
    check("listening on [::1]:%d" % rig.c2s_tls_port in log and
          "listening on 127.0.0.1:%d" % rig.c2s_tls_port in log,
          "the client listeners are on 127.0.0.1 and ::1")
    s = connect("::1", rig.component_port)
    s.sendall(b"<?xml version='1.0'?><stream:stream to='echo.localhost' "
              b"xmlns='jabber:component:accept' "
              b"xmlns:stream='http://etherx.jabber.org/streams'>")
    check("id=" in read_until(s, "id="),
          "the component port answers over ::1 too")
    s.close()

    default = der(rig.cert)
    for h in HOSTS:
        got, s = direct(rig, h, to=h)
        s.close()
        check(got == der(files[h][0]),
              "direct TLS with SNI %s gets %s's certificate" % (h, h))
        s = starttls(rig, h)
        got = s.getpeercert(binary_form=True)
        s.close()
        check(got == der(files[h][0]),
              "STARTTLS with SNI %s gets %s's certificate" % (h, h))
    got, s = direct(rig, "localhost", to="localhost")
    s.close()
    check(got == default, "SNI localhost gets the default certificate")
    got, s = direct(rig, "gamma.test")
    s.close()
    check(got == default, "an unknown name gets the default certificate")
    warned = "stream to alpha.test, but the certificate presented"
    check(warned not in rig.xmppd.text(),
          "no warning while each stream's host matched its certificate")
    got, s = direct(rig, None, to="alpha.test")
    s.close()
    check(got == default, "no SNI gets the default certificate")
    rig.xmppd.wait_log(warned)
    passed("a stream to alpha.test shown the default certificate is logged")

    # A client over each address logs in.
    for addr, user, host, pw in (("127.0.0.1", "amy", "alpha.test",
                                  "pw-alpha"),
                                 ("::1", "bob", "beta.test", "pw-beta")):
        s = starttls(rig, host, addr=addr)
        got = login(s, user, host, pw)
        s.close()
        check("<jid>%s@%s/r</jid>" % (user, host) in got,
              "%s@%s logs in over %s" % (user, host, addr))
    got, s = direct(rig, "beta.test", to="beta.test", addr="::1")
    s.close()
    check(got == der(files["beta.test"][0]),
          "direct TLS over ::1 with SNI beta.test gets its certificate")

    # A new certificate for alpha.test, then a reload: served at once.
    old = der(files["alpha.test"][0])
    make_cert("alpha.test", *files["alpha.test"])
    check(der(files["alpha.test"][0]) != old, "a new alpha.test certificate")
    reload(rig, "configuration reloaded")
    got, s = direct(rig, "alpha.test")
    s.close()
    check(got == der(files["alpha.test"][0]),
          "after the reload SNI alpha.test gets the new certificate")

    # A certificate without its key: the reload fails, nothing changes.
    stray = os.path.join(certs, "delta.test.crt")
    with open(files["beta.test"][0]) as f, open(stray, "w") as g:
        g.write(f.read())
    reload(rig, "delta.test.crt: no key beside it")
    got, s = direct(rig, "alpha.test")
    s.close()
    check(got == der(files["alpha.test"][0]),
          "a broken folder fails the reload and the certificates stay")
    os.unlink(stray)

    # The per-address cap holds for IPv6 (the reload lowers it).
    rig.xmppd_keys["c2s_max_connections_per_address"] = 2
    rig.write_config()
    reload(rig, "configuration reloaded")
    held = [connect("::1", rig.c2s_port) for _ in range(2)]
    for s in held:
        s.sendall(header("localhost"))
        read_until(s, "</stream:features>")
    third = connect("::1", rig.c2s_port)
    third.sendall(header("localhost"))
    try:
        got = third.recv(4096)
    except (ConnectionResetError, socket.timeout):
        got = b""
    third.close()
    check(got == b"", "a third connection from ::1 is closed at once")
    other = connect("127.0.0.1", rig.c2s_port)
    other.sendall(header("localhost"))
    check("</stream:features>" in read_until(other, "</stream:features>"),
          "while 127.0.0.1 is still admitted")
    for s in held + [other]:
        s.close()


main(test)
