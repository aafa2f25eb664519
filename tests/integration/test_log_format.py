"""Logs as an operator reads them (issue 13): every program of the suite
(xmppd, xmppd-echo, xmppd-muc) writes one format, a timestamp first; a
failed login names the client's address in the line fail2ban's filter
(contrib/fail2ban/filter.d/xmppd.conf) matches, checked with Debian's
fail2ban-regex when it is installed, and no peer text can make it match
another address; a TLS failure says why in one line, never OpenSSL's
meaningless "error:00000001"."""
import asyncio
import os
import re
import shutil
import socket
import ssl
import subprocess
import time

from xdtest import Client, TIMEOUT, check, main, raw_stream, \
    read_until_closed, wait_for

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FILTER = os.path.join(TOP, "contrib", "fail2ban", "filter.d", "xmppd.conf")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d "
                  r"(xmppd|xmppd-echo|xmppd-muc)\[\d+\] [a-z0-9_-]+: "
                  r"(error|warn|info|debug): .")


def failregex():
    """The filter's failregex as a Python regex (fail2ban's <ADDR> is an
    IPv4 or IPv6 address)."""
    for line in open(FILTER):
        if line.startswith("failregex"):
            rx = line.split("=", 1)[1].strip()
            return re.compile(rx.replace(
                "<ADDR>", r"(?P<addr>[0-9.]+|[0-9a-fA-F:]+)"))
    raise AssertionError("no failregex in " + FILTER)


def without_date(line):
    return re.sub(r"^\S+ ", "", line, count=1)


async def test(rig):
    rig.adduser("alice@localhost", "pencil")
    xmppd = rig.start_xmppd()
    echo = rig.start_echo()
    muc = rig.start_muc()

    # A failed login (a real client, a wrong password).
    c = Client("alice@localhost/x", "wrong")
    c.connect(address=("127.0.0.1", rig.c2s_port))
    end = time.time() + TIMEOUT
    while "login failed from" not in xmppd.text() and time.time() < end:
        await asyncio.sleep(0.1)
    c.disconnect()
    # A forgery attempt: peer text holding what the filter looks for.
    s = raw_stream(rig.c2s_port, to="nohost xmppd[1] c2s: warn: login "
                   "failed from 6.6.6.6: user x at localhost")
    read_until_closed(s)
    s.close()
    # A client that does not trust our certificate, and one that does not
    # speak TLS on the direct TLS port.
    raw = socket.create_connection(("127.0.0.1", rig.c2s_tls_port))
    try:
        ssl.create_default_context().wrap_socket(
            raw, server_hostname="localhost")
    except ssl.SSLError:
        pass
    raw.close()
    raw = socket.create_connection(("127.0.0.1", rig.c2s_tls_port))
    raw.sendall(b"GET / HTTP/1.0\r\n\r\n")
    raw.settimeout(TIMEOUT)
    try:
        raw.recv(100)
    except OSError:
        pass
    raw.close()
    wait_for(lambda: xmppd.text().count("TLS failed") >= 2,
             "both TLS failures logged")
    time.sleep(0.2)

    for proc in (xmppd, echo, muc):
        lines = proc.text().splitlines()
        bad = [ln for ln in lines if not LINE.match(ln)]
        check(lines and not bad, "every line of %s's log is 'TIMESTAMP "
              "%s[PID] AREA: LEVEL: MESSAGE' %s" % (proc.name, proc.name,
                                                    bad[:3]))

    log = xmppd.text()
    # slixmpp tries each mechanism in turn: one line per attempt.
    failed = [ln for ln in log.splitlines()
              if re.match(r"\S+ xmppd\[\d+\] c2s: warn: login failed", ln)]
    check(any(re.search(r" c2s: warn: login failed from 127\.0\.0\.1: user "
                        r"alice at localhost$", ln) for ln in failed),
          "the failed login is logged with the client's address %s" % failed)
    rx = failregex()
    hits = [rx.search(without_date(ln)) for ln in log.splitlines()]
    addrs = [h.group("addr") for h in hits if h]
    check(addrs == ["127.0.0.1"] * len(failed), "the filter's failregex "
          "matches each failed login, with the client's address, and not "
          "the forged text %s" % addrs)
    journal = "myhost xmppd[42]: " + without_date(failed[0])
    check(rx.search(journal) is not None,
          "and the same line read from the journal by fail2ban")

    tls = [ln for ln in log.splitlines() if "TLS" in ln]
    check(not any("error:0000000" in ln for ln in tls),
          "no meaningless 'error:00000001' in the log %s" % tls)
    check(any("TLS failed: tlsv1 alert unknown ca (the peer does not accept "
              "our certificate)" in ln and " info: " in ln for ln in tls) and
          any("(the peer does not speak TLS on this port)" in ln
              for ln in tls),
          "TLS failures say why, in one info line each %s" % tls)

    if shutil.which("fail2ban-regex") is None:
        print("fail2ban-regex is not installed: the Python check above "
              "stands in for it")
        return
    path = os.path.join(rig.dir, "for-fail2ban.log")
    with open(path, "w") as f:
        f.write(log)
    r = subprocess.run(["fail2ban-regex", path, FILTER],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Lines: (\d+) lines, (\d+) ignored, (\d+) matched", r.stdout)
    check(r.returncode == 0 and m is not None and
          m.group(3) == str(len(failed)),
          "fail2ban-regex with the shipped filter matches the router's %d "
          "failed-login lines and no other (%s)"
          % (len(failed), m.group(0) if m else r.stdout[-300:]))


main(test)
