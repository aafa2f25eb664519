"""xmppdctl talking to the running xmppd: sessions online, kicking a full
JID and a bare JID (the client gets policy-violation), statistics, and
reloading the configuration without dropping anyone: a new limit applies
to the next login, a new certificate to the next TLS handshake, a broken
file changes nothing; SIGHUP reloads too. Without a running xmppd the
commands say so."""
import asyncio
import hashlib
import os
import signal
import ssl
import subprocess

from xdtest import RawClient, check, login, logout, main, wait_for


def cert_fingerprint(rig):
    s = RawClient(rig).s  # direct TLS: the handshake is done
    der = s.getpeercert(binary_form=True)
    s.close()
    return hashlib.sha256(der).hexdigest()


def new_cert(rig):
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
         "2", "-subj", "/CN=localhost", "-keyout", rig.key, "-out", rig.cert],
        check=True, capture_output=True)


def set_key(rig, key, value):
    with open(rig.config) as f:
        lines = f.read().split("\n")
    out = [l for l in lines if not l.startswith(key + " =")]
    out.insert(out.index("[xmppd]") + 1, "%s = %s" % (key, value))
    with open(rig.config, "w") as f:
        f.write("\n".join(out))


async def test(rig):
    r = rig.ctl("stats")
    check(r.returncode == 1 and "cannot reach xmppd" in r.stderr,
          "no xmppd: the command says so")
    for u in ("alice", "bob"):
        rig.adduser("%s@localhost" % u, "pencil")
    rig.start_xmppd()
    a1 = await login(rig, "alice@localhost/one", "pencil")
    a2 = await login(rig, "alice@localhost/two", "pencil")
    b = await login(rig, "bob@localhost/desk", "pencil")
    b.send_presence()
    await asyncio.sleep(0.3)

    r = rig.ctl("sessions")
    lines = sorted(r.stdout.strip().split("\n"))
    check(r.returncode == 0 and len(lines) == 3, "three sessions: %r"
          % r.stdout)
    check(lines[2].startswith("bob@localhost/desk\t127.0.0.1:") and
          "available(0)" in lines[2] and "tls" in lines[2],
          "a line has JID, address and flags: %r" % lines[2])

    r = rig.ctl("stats")
    stats = dict(l.split(" ", 1) for l in r.stdout.strip().split("\n"))
    check(r.returncode == 0 and stats["sessions"] == "3" and
          stats["accounts_online"] == "2" and int(stats["logins"]) >= 3 and
          int(stats["rss_kib"]) > 0, "stats: %r" % stats)

    r = rig.ctl("kick", "alice@localhost/one")
    check(r.returncode == 0 and "1 session(s) kicked" in r.stdout, r.stdout)
    cond = await asyncio.wait_for(a1.stream_error, 10)
    check(cond == "policy-violation", "the kicked client is told: %s" % cond)
    r = rig.ctl("kick", "nobody@localhost")
    check(r.returncode == 1 and "has no session" in r.stderr,
          "kicking someone offline is an error")
    r = rig.ctl("kick", "alice@localhost")
    check(r.returncode == 0 and "1 session(s) kicked" in r.stdout,
          "a bare JID kicks what is left of the account")
    await asyncio.wait_for(a2.stream_error, 10)
    r = rig.ctl("frobnicate")
    check(r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr,
          "an unknown command says so")

    # Reload: a limit and the certificate change; bob stays connected.
    before = await asyncio.get_event_loop().run_in_executor(
        None, cert_fingerprint, rig)
    new_cert(rig)
    set_key(rig, "max_sessions_per_account", "1")
    r = rig.ctl("reload")
    check(r.returncode == 0, "reload: %s" % r.stderr)
    after = await asyncio.get_event_loop().run_in_executor(
        None, cert_fingerprint, rig)
    check(before != after, "the next handshake shows the new certificate")
    b2 = None
    try:
        b2 = await login(rig, "bob@localhost/phone", "pencil")
    except Exception:
        pass
    check(b2 is None or not b2.started.is_set(),
          "the new limit holds for the next login")
    check("1 sessions already" in rig.xmppd.text(), "refused by the limit")
    b.send_message(mto="bob@localhost/desk", mbody="still here", mtype="chat")
    m = await asyncio.wait_for(b.messages.get(), 10)
    check(m["body"] == "still here", "the connection survived the reload")

    # A broken file: refused, nothing changes.
    set_key(rig, "max_sessions_per_account", "banana")
    r = rig.ctl("reload")
    check(r.returncode == 1 and "banana" in r.stderr,
          "xmppdctl points at the bad value itself: %r" % r.stderr)
    os.kill(rig.xmppd.p.pid, signal.SIGHUP)
    await asyncio.get_event_loop().run_in_executor(
        None, rig.xmppd.wait_log, "banana")
    check(rig.xmppd.text().count("configuration reloaded") == 1,
          "xmppd refuses it too, and runs on")
    set_key(rig, "c2s_port", "1")
    set_key(rig, "max_sessions_per_account", "5")
    os.kill(rig.xmppd.p.pid, signal.SIGHUP)
    await asyncio.get_event_loop().run_in_executor(
        None, rig.xmppd.wait_log, "c2s_port: the new value waits for a restart")
    b3 = await login(rig, "bob@localhost/phone", "pencil")
    check(b3.started.is_set(), "SIGHUP reloaded: a second resource again")
    await logout(b, b3)


main(test)
