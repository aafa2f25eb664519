"""xmppdctl check against a dnsmasq on loopback (started here, stopped by
PID): with a good certificate and the SRV records of good.test it finds no
problem there, but it names the missing _xmpp-client SRV record of
nosrv.test; a certificate for another name and an expired certificate
are problems; ports that nothing answers on are problems (xmppd stopped);
--no-dns skips DNS; a --dns that is not an address is refused.

xmppdctl cert import takes certbot's live/ layout: a key that does not
belong to the certificate is refused and nothing changes; a good pair is
written as tls_cert and tls_key (a key never more open than 0640), the
running xmppd reloads, and a new TLS connection gets the new certificate;
with tls_cert_dir it goes to tls_cert_dir/HOST/ (key 0640, the folder's
group), and check looks at each host's certificate there."""
import os
import shutil
import socket
import ssl
import stat
import subprocess

from xdtest import Failure, Rig, check, free_ports, main

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


def make_cert(rig, name, sans):
    key = os.path.join(rig.dir, name + ".key")
    crt = os.path.join(rig.dir, name + ".crt")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-days", "30", "-subj", "/CN=" + sans[0], "-addext",
         "subjectAltName=" + ",".join("DNS:" + s for s in sans),
         "-keyout", key, "-out", crt], check=True, capture_output=True)
    return crt, key


def make_expired_cert(rig, host):
    """openssl 3.0's x509 and req cannot date a certificate in the past;
    `openssl ca` can (-startdate, -enddate), self-signing a request."""
    d = os.path.join(rig.dir, "ca")
    os.makedirs(d)
    open(os.path.join(d, "index.txt"), "w").close()
    conf = os.path.join(d, "ca.cnf")
    with open(conf, "w") as f:
        f.write("[ca]\ndefault_ca = here\n[here]\ndir = %s\n"
                "database = $dir/index.txt\nnew_certs_dir = $dir\n"
                "serial = $dir/serial\ndefault_md = sha256\n"
                "policy = anything\ncopy_extensions = copy\n"
                "[anything]\ncommonName = supplied\n" % d)
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    key = os.path.join(rig.dir, "expired.key")
    csr = os.path.join(d, "expired.csr")
    crt = os.path.join(rig.dir, "expired.crt")
    subprocess.run(
        ["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes",
         "-subj", "/CN=" + host, "-addext", "subjectAltName=DNS:" + host,
         "-keyout", key, "-out", csr], check=True, capture_output=True)
    subprocess.run(
        ["openssl", "ca", "-batch", "-config", conf, "-selfsign",
         "-keyfile", key, "-in", csr, "-out", crt, "-notext",
         "-startdate", "20200101000000Z", "-enddate", "20200201000000Z"],
        check=True, capture_output=True)
    return crt, key


def start_dnsmasq(rig, port):
    p = rig.start("dnsmasq", [
        DNSMASQ, "--keep-in-foreground", "--no-resolv", "--no-hosts",
        "--conf-file=/dev/null", "--listen-address=127.0.0.1",
        "--bind-interfaces", "--port=%d" % port, "--log-facility=-",
        "--pid-file=" + os.path.join(rig.dir, "dnsmasq.pid"),
        "--srv-host=_xmpp-client._tcp.good.test,xmpp.good.test,%d"
        % rig.c2s_port,
        "--srv-host=_xmpps-client._tcp.good.test,xmpp.good.test,%d"
        % rig.c2s_tls_port,
        "--address=/good.test/127.0.0.1",
        "--address=/nosrv.test/127.0.0.1",
        # Answered from the lines above only: a name or type they lack is
        # NXDOMAIN or NODATA, not REFUSED for want of an upstream server.
        "--local=/good.test/", "--local=/nosrv.test/"])
    p.peer = True  # its exit status on SIGTERM is dnsmasq's business
    p.wait_log("started, version")
    return p


def served_cert(rig):
    """The certificate a new direct-TLS connection gets, as PEM."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", rig.c2s_tls_port), 10) as s:
        with ctx.wrap_socket(s, server_hostname="good.test") as t:
            return ssl.DER_cert_to_PEM_cert(t.getpeercert(binary_form=True))


def live_dir(rig, host, crt, key):
    d = os.path.join(rig.dir, "letsencrypt", "live", host)
    os.makedirs(d, exist_ok=True)
    shutil.copy(crt, os.path.join(d, "fullchain.pem"))
    shutil.copy(key, os.path.join(d, "privkey.pem"))
    return os.path.dirname(d)


def same_cert(pem_a, path_b):
    def der(pem):
        return ssl.PEM_cert_to_DER_cert(pem.split("-----END CERTIFICATE-----")
                                        [0] + "-----END CERTIFICATE-----\n")
    with open(path_b) as f:
        return der(pem_a) == der(f.read())


async def cert_import(rig, good, other):
    """tls_cert/tls_key are rig.cert/rig.key (the rig's localhost pair)."""
    rig.xmppd_keys.update(tls_cert=rig.cert, tls_key=rig.key)
    rig.write_config()
    check(rig.ctl("reload").returncode == 0, "back to the rig's certificate")
    os.chmod(rig.key, 0o644)  # so that the mode seen after is the import's
    before = open(rig.cert).read()
    live = live_dir(rig, "good.test", good[0], other[1])
    r = rig.ctl("cert", "import", live)
    check(r.returncode == 1 and "does not belong" in r.stderr
          and open(rig.cert).read() == before,
          "a key of another certificate is refused, nothing changed: %r"
          % r.stderr)
    live = live_dir(rig, "good.test", good[0], good[1])
    r = rig.ctl("cert", "import", live)
    check(r.returncode == 0 and "reloaded" in r.stdout,
          "cert import live/: %r %r" % (r.stdout, r.stderr))
    check(stat.S_IMODE(os.stat(rig.key).st_mode) == 0o640,
          "the key keeps its mode, but never readable by others")
    check(same_cert(served_cert(rig), good[0]),
          "a new connection gets the imported certificate")

    # With tls_cert_dir: into tls_cert_dir/HOST/, the key 0640 with the
    # folder's group.
    certs = os.path.join(rig.dir, "certs")
    os.makedirs(certs)
    os.chown(certs, -1, 65534)
    rig.xmppd_keys.update(tls_cert_dir=certs)
    rig.write_config()
    live = os.path.join(live_dir(rig, "nosrv.test", good[0], good[1]),
                        "nosrv.test")  # live/HOST, as certbot's hook has it
    r = rig.ctl("cert", "import", live)
    key = os.path.join(certs, "nosrv.test", "privkey.pem")
    st = os.stat(key)
    check(r.returncode == 0 and os.path.exists(
        os.path.join(certs, "nosrv.test", "fullchain.pem"))
          and stat.S_IMODE(st.st_mode) == 0o640 and st.st_gid == 65534,
          "cert import into tls_cert_dir/HOST, key 0640 with the folder's "
          "group: %r %r %o" % (r.stdout, r.stderr, st.st_mode))

    # check looks at the certificate each host gets: tls_cert_dir's own.
    shutil.copy(other[0], os.path.join(certs, "good.test.crt"))
    shutil.copy(other[1], os.path.join(certs, "good.test.key"))
    r = rig.ctl("check", "--no-dns")
    p = problems(r.stdout)
    check(r.returncode == 1 and len(p) == 1 and "good.test.crt: does not "
          "name good.test" in p[0] and "nosrv.test/fullchain.pem: names "
          "nosrv.test" in r.stdout,
          "check takes each host's certificate of tls_cert_dir: %r"
          % r.stdout)


def problems(out):
    return [line for line in out.splitlines() if line.startswith("problem:")]


async def test(rig):
    if not os.path.exists(DNSMASQ):
        raise Failure("dnsmasq is not installed (contrib/deps.sh test)")
    (dns_port,) = free_ports(1)
    good = make_cert(rig, "good", ["good.test", "nosrv.test"])
    wrong = make_cert(rig, "wrong", ["other.test"])
    expired = make_expired_cert(rig, "good.test")
    rig.xmppd_keys.update(hosts="good.test nosrv.test", tls_cert=good[0],
                          tls_key=good[1])
    rig.write_config()
    start_dnsmasq(rig, dns_port)
    dns = ["--dns", "127.0.0.1:%d" % dns_port]

    r = rig.ctl("check", *dns)
    p = problems(r.stdout)
    check(r.returncode == 1 and any("nothing answers" in x for x in p),
          "xmppd stopped: its ports are problems: %r" % r.stdout)
    rig.start_xmppd()

    r = rig.ctl("check", *dns)
    p = problems(r.stdout)
    check(r.returncode == 1 and len(p) == 1 and "nosrv.test" in p[0]
          and "_xmpp-client._tcp.nosrv.test" in p[0],
          "the one problem: nosrv.test has no SRV record: %r" % r.stdout)
    check("ok: good.test: SRV _xmpp-client._tcp.good.test -> "
          "xmpp.good.test:%d" % rig.c2s_port in r.stdout
          and "ok: certificate %s: names good.test" % good[0] in r.stdout
          and "ok: c2s_port" in r.stdout,
          "good.test's SRV record, the certificate and the ports are fine")

    rig.xmppd_keys.update(tls_cert=wrong[0], tls_key=wrong[1])
    rig.write_config()
    r = rig.ctl("check", "--no-dns")
    p = problems(r.stdout)
    check(r.returncode == 1 and len(p) == 2
          and all("does not name" in x for x in p)
          and "SRV" not in r.stdout,
          "a certificate for another name, both hosts named (DNS "
          "skipped): %r" % r.stdout)

    rig.xmppd_keys.update(tls_cert=expired[0], tls_key=expired[1])
    rig.write_config()
    r = rig.ctl("check", "--no-dns")
    p = problems(r.stdout)
    check(r.returncode == 1 and any("expired on 2020-02-01" in x for x in p),
          "an expired certificate: %r" % r.stdout)

    r = rig.ctl("check", "--dns", "not an address")
    check(r.returncode == 1 and "not an address" in r.stderr,
          "a bad --dns is refused: %r" % r.stderr)

    await cert_import(rig, good, wrong)


main(test)
