#!/usr/bin/python3
"""flood.py: floods a local xmppd (and xmppd-muc) the way a hostile peer
would, and measures what it costs the server and a normal client.

Not a test: it reports figures (see tests/bench/README.md). Each phase
starts a fresh router on loopback (the rig of tests/integration/xdtest.py),
lets a normal client (the "probe", a separate process connecting from
127.0.0.2) log in and chat with itself while the server is idle, then
again during the flood, which comes from 127.0.0.1:

  conns  up to --conns TCP connections (each sends a stream header)
  junk   --junk-conns connections each sending an unfinished stanza of
         --junk-bytes of tiny elements, before authentication
  sm     --sm-sessions sessions enable XEP-0198 resumption, receive
         --sm-stanzas messages of --sm-bytes each without acknowledging
         them, then drop their connections
  room   one of --room-occupants occupants of a room sends presences of
         --room-presence-bytes and messages of --room-msg-bytes

Every loop is bounded in count and in time, and the run stops by itself.
Extra router keys: --set KEY=VALUE; extra xmppd-muc keys: --muc-set.
"""

import argparse
import base64
import errno
import hashlib
import hmac
import json
import os
import re
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
STREAM = ("<?xml version='1.0'?><stream:stream to='localhost' "
          "xmlns='jabber:client' "
          "xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
PASSWORD = "flood-pw"  # password_min_length is 8 by default
ROOM = "flood@conference.localhost"
IO_TIMEOUT = 5.0  # one expected answer, at most
# the rig's keys the benchmark keeps: addresses, ports, files
RIG_KEYS = ("hosts", "db_path", "control_socket", "tls_cert", "tls_key",
            "c2s_address", "c2s_port", "c2s_tls_port", "component_port")


def pct(values, q):
    if not values:
        return None
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


def fmt_ms(v):
    return "n/a" if v is None else "%.2f" % v


# --- a blocking client session (the probe, and the driver's set-up) -------

class Session:
    """A c2s session on a blocking socket: SCRAM-SHA-1 on the plaintext
    port, bind, then whatever the caller sends and expects."""

    keys = {}  # (password, salt, iterations) -> (client_key, stored_key)

    def __init__(self, port, src="127.0.0.1"):
        self.s = socket.socket()
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s.settimeout(IO_TIMEOUT)
        self.s.bind((src, 0))
        self.s.connect(("127.0.0.1", port))
        self.buf = b""
        self.jid = None
        self.kdf_s = 0.0  # time login() spent deriving keys (PBKDF2)
        self.send(STREAM)

    def send(self, xml):
        self.s.sendall(xml.encode() if isinstance(xml, str) else xml)

    def expect(self, pattern, timeout=IO_TIMEOUT):
        """Reads until the regex `pattern` (bytes) matches; returns the
        match and keeps what follows it."""
        rx = re.compile(pattern, re.S)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                self.buf = self.buf[m.end():]
                return m
            if b"<stream:error" in self.buf:
                raise OSError("stream error: %r" % self.buf[-300:])
            left = end - time.monotonic()
            if left <= 0:
                raise OSError("timed out waiting for %r" % pattern)
            self.s.settimeout(left)
            chunk = self.s.recv(262144)
            if not chunk:
                raise OSError("closed by the server")
            self.buf += chunk
            if len(self.buf) > 4 << 20:
                self.buf = self.buf[-(1 << 20):]

    def login(self, user, password=PASSWORD, resource="r"):
        self.expect(rb"</stream:features>")
        cnonce = base64.b64encode(os.urandom(18)).decode()
        first_bare = "n=%s,r=%s" % (user, cnonce)
        self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                  "mechanism='SCRAM-SHA-1'>%s</auth>"
                  % base64.b64encode(("n,," + first_bare).encode()).decode())
        m = self.expect(rb"<challenge[^>]*>([^<]*)</challenge>")
        server_first = base64.b64decode(m.group(1)).decode()
        f = dict(kv.split("=", 1) for kv in server_first.split(","))
        salt, iters = base64.b64decode(f["s"]), int(f["i"])
        k = (password, salt, iters)
        t0 = time.perf_counter()
        if k not in Session.keys:
            salted = hashlib.pbkdf2_hmac("sha1", password.encode(), salt,
                                         iters)
            ck = hmac.new(salted, b"Client Key", "sha1").digest()
            Session.keys[k] = (ck, hashlib.sha1(ck).digest())
        ck, sk = Session.keys[k]
        self.kdf_s = time.perf_counter() - t0
        final_wo = "c=biws,r=" + f["r"]
        auth_msg = ",".join((first_bare, server_first, final_wo)).encode()
        sig = hmac.new(sk, auth_msg, "sha1").digest()
        proof = bytes(a ^ b for a, b in zip(ck, sig))
        self.send("<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s"
                  "</response>" % base64.b64encode(
                      (final_wo + ",p=" +
                       base64.b64encode(proof).decode()).encode()).decode())
        self.expect(rb"<success")
        self.send(STREAM)
        self.expect(rb"</stream:features>")
        self.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:"
                  "xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>"
                  % resource)
        self.jid = self.expect(rb"<jid>([^<]+)</jid>").group(1).decode()
        self.expect(rb"</iq>")
        return self

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


# --- the probe: a normal client, in a process of its own -------------------

def probe(port, seconds, user, gap_s=0.02, per_login=20):
    """Logs in, sends `per_login` messages to its own full JID one at a time
    (each waits for its echo), closes; again until `seconds` have passed.
    Prints one JSON line."""
    end = time.monotonic() + seconds
    logins, lat, fails = [], [], []
    seq = 0
    while time.monotonic() < end:
        s = None
        try:
            t0 = time.perf_counter()
            s = Session(port, src="127.0.0.2").login(user, resource="probe")
            # the probe's own key derivation (first login) is not the server's
            logins.append((time.perf_counter() - t0 - s.kdf_s) * 1000)
            for _ in range(per_login):
                if time.monotonic() >= end:
                    break
                seq += 1
                t0 = time.perf_counter()
                s.send("<message to='%s' id='p%d' type='chat'><body>%d"
                       "</body></message>" % (s.jid, seq, seq))
                s.expect(rb"<message[^>]*id=['\"]p%d['\"]" % seq)
                lat.append((time.perf_counter() - t0) * 1000)
                time.sleep(gap_s)
            s.send("</stream:stream>")
        except OSError as e:
            fails.append(str(e)[:120])
            time.sleep(0.2)
        finally:
            if s is not None:
                s.close()
    print(json.dumps({
        "logins": len(logins), "login_p50": pct(logins, 0.5),
        "login_max": max(logins) if logins else None,
        "msgs": len(lat), "lat_p50": pct(lat, 0.5), "lat_p99": pct(lat, 0.99),
        "failures": len(fails), "first_failures": fails[:3]}))


def probe_text(p):
    if p is None:
        return "probe: none"
    t = ("logins=%d login_p50=%sms login_max=%sms msgs=%d p50=%sms p99=%sms "
         "failures=%d" % (p["logins"], fmt_ms(p["login_p50"]),
                          fmt_ms(p["login_max"]), p["msgs"],
                          fmt_ms(p["lat_p50"]), fmt_ms(p["lat_p99"]),
                          p["failures"]))
    if p["first_failures"]:
        t += " (%s)" % "; ".join(p["first_failures"])
    return t


# --- the server's figures, from /proc --------------------------------------

class Watch:
    """RSS (now, highest sample, VmHWM), CPU and descriptors of a PID."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = 0
        self.t0 = time.monotonic()
        self.cpu0 = self.cpu()

    def status(self, key):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                m = re.search(r"^%s:\s+(\d+) kB" % key, f.read(), re.M)
            return int(m.group(1)) if m else 0
        except OSError:
            return 0

    def cpu(self):
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                st = f.read()
            fields = st[st.rindex(")") + 2:].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf(
                "SC_CLK_TCK")
        except (OSError, ValueError):
            return 0.0

    def fds(self):
        try:
            return len(os.listdir("/proc/%d/fd" % self.pid))
        except OSError:
            return 0

    def sample(self):
        self.peak = max(self.peak, self.status("VmRSS"))

    def restart(self):
        """Starts the CPU window and the peak from now."""
        self.t0, self.cpu0, self.peak = time.monotonic(), self.cpu(), 0
        self.sample()

    def cpu_pct(self):
        wall = time.monotonic() - self.t0
        return 100.0 * (self.cpu() - self.cpu0) / wall if wall > 0 else 0.0


def mib(kb):
    return "%.1f" % (kb / 1024.0)


# --- the flood's own loop: many non-blocking sockets ------------------------

class Peer:
    """One socket of the flood. `on_data(peer, bytes)` sees what arrives;
    `refill(peer)` is asked for more output when the buffer runs low."""

    def __init__(self, sock=None):
        self.s = sock
        self.out = bytearray()
        self.connecting = sock is None
        self.t0 = time.monotonic()
        self.got = 0  # bytes received
        self.features = False
        self.stream_error = False
        self.closed = None  # why it ended: "server", "refused", ...
        self.on_data = None
        self.refill = None
        self.tail = b""


class Loop:
    def __init__(self, watches):
        self.sel = selectors.EpollSelector()
        self.watches = watches
        self.peers = []
        self.last_sample = 0.0

    def add(self, peer, port=None):
        if peer.s is None:
            s = socket.socket()
            s.setblocking(False)
            peer.s = s
            try:
                rc = s.connect_ex(("127.0.0.1", port))
            except OSError as e:
                rc = e.errno
            if rc not in (0, errno.EINPROGRESS):
                peer.closed = ("refused" if rc == errno.ECONNREFUSED else
                               "local:" + errno.errorcode.get(rc, str(rc)))
                s.close()
                return peer
        else:
            peer.s.setblocking(False)
            peer.connecting = False
        self.peers.append(peer)
        self.sel.register(peer.s, self.mask(peer), peer)
        return peer

    @staticmethod
    def mask(peer):
        m = selectors.EVENT_READ
        if peer.connecting or peer.out or peer.refill:
            m |= selectors.EVENT_WRITE
        return m

    def update(self, peer):
        if peer.closed is None:
            self.sel.modify(peer.s, self.mask(peer), peer)

    def end(self, peer, why):
        if peer.closed is None:
            peer.closed = why
            self.sel.unregister(peer.s)
            peer.s.close()

    def write(self, peer, data):
        peer.out += data
        self.update(peer)

    def step(self, timeout=0.05):
        for key, ev in self.sel.select(timeout):
            p = key.data
            if p.closed is not None:
                continue
            if p.connecting and ev & selectors.EVENT_WRITE:
                err = p.s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    self.end(p, "refused" if err == errno.ECONNREFUSED
                             else "connect:" + errno.errorcode.get(err, "?"))
                    continue
                p.connecting = False
                p.out += STREAM.encode()
                self.update(p)
            if ev & selectors.EVENT_READ:
                try:
                    data = p.s.recv(262144)
                except OSError:
                    data = b""
                if not data:
                    self.end(p, "server")
                    continue
                p.got += len(data)
                look = p.tail + data
                if not p.features and b"<stream:features" in look:
                    p.features = True
                if b"<stream:error" in look:
                    p.stream_error = True
                p.tail = data[-32:]
                if p.on_data:
                    p.on_data(p, data)
            if ev & selectors.EVENT_WRITE and not p.connecting:
                if p.refill and len(p.out) < (1 << 20):
                    if not p.refill(p):
                        p.refill = None
                if p.out:
                    try:
                        n = p.s.send(p.out[:1 << 20])
                        del p.out[:n]
                    except BlockingIOError:
                        pass
                    except OSError:
                        self.end(p, "server")
                        continue
                self.update(p)
        now = time.monotonic()
        if now - self.last_sample >= 0.2:
            self.last_sample = now
            for w in self.watches:
                w.sample()

    def run(self, seconds, until=None, tick=None):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until is not None and until():
                return True
            if tick is not None:
                tick()
            self.step()
        return until is not None and until()

    def close_all(self):
        for p in self.peers:
            self.end(p, p.closed or "ours")
        self.sel.close()


# --- the phases -------------------------------------------------------------

class Bench:
    def __init__(self, args, xdtest):
        self.a = args
        self.xd = xdtest
        self.rig = xdtest.Rig()
        # Of the rig's keys only where things are: any limit it sets for the
        # integration tests (e.g. raised per-address caps) is dropped, so
        # that the router runs with its defaults, but for these and --set.
        rig_keys = self.rig.xmppd_keys
        self.rig.xmppd_keys = {k: rig_keys[k] for k in RIG_KEYS
                               if k in rig_keys}
        self.keys = {"c2s_require_tls": "false", "archive_default": "never",
                     "c2s_max_bytes_per_s": 0}
        self.keys.update(args.set)
        self.rig.xmppd_keys.update(self.keys)
        self.rig.muc_keys.update(args.muc_set)
        self.rig.write_config()
        self.port = self.rig.c2s_port
        self.router = None
        self.muc = None
        self.rows = []
        users = ["probe", "sender"]
        users += ["sm%d" % i for i in range(args.sm_sessions)]
        users += ["occ%d" % i for i in range(args.room_occupants)]
        for u in users:
            self.rig.adduser(u + "@localhost", PASSWORD)

    def log_since(self, proc, offset):
        with open(proc.log, "rb") as f:
            f.seek(offset)
            return f.read(1 << 20).decode(errors="replace")

    @staticmethod
    def log_scan(proc, offset):
        """(bytes, lines, the lines the phases count) of a log since
        offset, read in pieces: a spinning router writes gigabytes."""
        keep = re.compile(rb"^.*(?:resumable|component |reads too slowly|"
                          rb"link lost).*$", re.M)
        n_bytes = n_lines = 0
        kept = []
        rest = b""
        with open(proc.log, "rb") as f:
            f.seek(offset)
            while True:
                chunk = f.read(4 << 20)
                if not chunk:
                    break
                n_bytes += len(chunk)
                n_lines += chunk.count(b"\n")
                data = rest + chunk
                cut = data.rfind(b"\n") + 1
                kept += keep.findall(data[:cut])
                rest = data[cut:]
        return n_bytes, n_lines, b"\n".join(kept).decode(errors="replace")

    def start(self, with_muc=False):
        xd = self.xd
        argv = [xd.XMPPD, "-c", self.rig.config]
        if self.a.router_nofile:
            argv = ["prlimit", "--nofile=%d:%d" % (self.a.router_nofile,
                                                   self.a.router_nofile),
                    "--"] + argv
        log = os.path.join(self.rig.dir, "xmppd.log")
        self.log0 = os.path.getsize(log) if os.path.exists(log) else 0
        self.router = self.rig.start("xmppd", argv)
        self.rig.xmppd = self.router
        self.xd.wait_for(lambda: " ready" in self.log_since(
            self.router, self.log0) or self.router.p.poll() is not None,
            "xmppd ready")
        if self.router.p.poll() is not None:
            raise self.xd.Failure("xmppd exited: %s" % self.log_since(
                self.router, self.log0)[-500:])
        self.muc = None
        if with_muc:
            mlog = os.path.join(self.rig.dir, "xmppd-muc.log")
            self.mlog0 = os.path.getsize(mlog) if os.path.exists(mlog) else 0
            self.muc = self.rig.start("xmppd-muc", [xd.MUC, "-c",
                                                     self.rig.config])
            self.xd.wait_for(lambda: "component conference.localhost "
                             "connected" in self.log_since(
                                 self.router, self.log0), "xmppd-muc linked")

    def stop(self):
        status = []
        for p in (self.muc, self.router):
            if p is None:
                continue
            try:
                rc = p.stop()
                if rc:
                    status.append("%s exited %s" % (p.name, rc))
            except self.xd.Failure as e:
                status.append(str(e))
            self.rig.procs.remove(p)
        self.muc = self.router = None
        return status

    def run_probe(self, seconds):
        """Starts the probe; returns its Popen."""
        return subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--probe",
             str(self.port), str(seconds)], stdout=subprocess.PIPE, text=True)

    @staticmethod
    def probe_result(p):
        try:
            out, _ = p.communicate(timeout=IO_TIMEOUT * 4)
            return json.loads(out.strip().splitlines()[-1])
        except (subprocess.TimeoutExpired, ValueError, IndexError):
            p.kill()
            p.wait()
            return None

    def phase(self, name, setup, flood, with_muc=False):
        """Fresh servers; set-up; an idle baseline for the probe; the flood
        with the probe running beside it; figures."""
        a = self.a
        print("== %s" % name, flush=True)
        self.start(with_muc)
        rw = Watch(self.router.p.pid)
        mw = Watch(self.muc.p.pid) if self.muc else None
        watches = [w for w in (rw, mw) if w]
        loop = Loop(watches)
        ctx = setup(loop) if setup else {}
        base = self.probe_result(self.run_probe(a.baseline_s))
        rss0 = rw.status("VmRSS")
        mrss0 = mw.status("VmRSS") if mw else 0
        for w in watches:
            w.restart()
        pr = self.run_probe(a.probe_s)
        t0 = time.monotonic()
        figures = flood(loop, ctx, rw, mw)
        # keep the flood's sockets as they are until the probe is done
        left = a.probe_s + 1 - (time.monotonic() - t0)
        if left > 0:
            loop.run(left, until=lambda: pr.poll() is not None)
        during = self.probe_result(pr)
        phase_s = time.monotonic() - t0
        for w in watches:
            w.sample()
        row = {"phase": name, "figures": figures, "baseline": base,
               "during": during, "rss_before": rss0, "rss_peak": rw.peak,
               "hwm": rw.status("VmHWM"), "cpu": rw.cpu_pct(),
               "fds": rw.fds(), "phase_s": phase_s}
        if mw:
            row.update(muc_rss_before=mrss0, muc_peak=mw.peak,
                       muc_hwm=mw.status("VmHWM"), muc_cpu=mw.cpu_pct(),
                       muc_alive=self.muc.p.poll() is None)
        row["log_bytes"], row["log_lines"], row["router_log"] = \
            self.log_scan(self.router, self.log0)
        if self.muc:
            row["muc_log"] = self.log_scan(self.muc, self.mlog0)[2]
        if "after" in ctx:
            ctx["after"](row)
        row.pop("muc_log", None)
        row.pop("router_log", None)
        loop.close_all()
        row["exit"] = self.stop()
        self.rows.append(row)
        self.report(row)

    @staticmethod
    def report(r):
        print("%s: %s" % (r["phase"], " ".join(
            "%s=%s" % kv for kv in r["figures"].items())))
        line = ("  router: rss_before=%sMiB rss_peak=%sMiB VmHWM=%sMiB "
                "cpu=%.0f%% fds=%d log=%d lines (%s MiB)" % (
                    mib(r["rss_before"]), mib(r["rss_peak"]), mib(r["hwm"]),
                    r["cpu"], r["fds"], r["log_lines"],
                    mib(r["log_bytes"] / 1024.0)))
        print(line)
        if "muc_peak" in r:
            print("  xmppd-muc: rss_before=%sMiB rss_peak=%sMiB VmHWM=%sMiB "
                  "cpu=%.0f%% alive=%s" % (
                      mib(r["muc_rss_before"]), mib(r["muc_peak"]),
                      mib(r["muc_hwm"]), r["muc_cpu"], r["muc_alive"]))
        print("  probe idle:   " + probe_text(r["baseline"]))
        print("  probe flood:  " + probe_text(r["during"]))
        if r["exit"]:
            print("  exit: " + "; ".join(r["exit"]))
        sys.stdout.flush()

    # 1. connections from one address
    def flood_conns(self, loop, ctx, rw, mw):
        a = self.a
        peers = []
        t0 = time.monotonic()

        def pending():
            return sum(1 for p in peers[-a.ramp * 4:]
                       if p.closed is None and (p.connecting or
                                                not p.features))

        def tick():
            now = time.monotonic()
            # give up on connects the server never completed
            for p in peers[-a.ramp * 4:]:
                if p.closed is None and not p.features and \
                        now - p.t0 > IO_TIMEOUT:
                    loop.end(p, "timeout")
            n = a.ramp - pending()
            while n > 0 and len(peers) < a.conns:
                peers.append(loop.add(Peer(), self.port))
                n -= 1

        loop.run(a.conn_time, until=lambda: len(peers) >= a.conns and
                 pending() == 0, tick=tick)
        opened = time.monotonic() - t0
        loop.run(a.hold)
        why = {}
        for p in peers:
            k = p.closed or "open"
            why[k] = why.get(k, 0) + 1
        return {"tried": len(peers), "open_s": "%.1f" % opened,
                "served": sum(p.features for p in peers),
                "open_at_end": why.pop("open", 0),
                "closed_by_server": why.pop("server", 0),
                "refused": why.pop("refused", 0),
                "timed_out": why.pop("timeout", 0),
                "other": sum(why.values()), "router_fds": rw.fds()}

    # 2. unfinished stanzas before authentication
    def flood_junk(self, loop, ctx, rw, mw):
        a = self.a
        # the parser takes at most 4,096 children per element: groups of
        # 4,000 empty elements, the last group left open like the stanza
        group = b"<b>" + b"<a/>" * 4000 + b"</b>"
        n = max(0, a.junk_bytes - 20) // len(group)
        rest = max(0, a.junk_bytes - 20 - n * len(group)) // 4
        junk = b"<message>" + group * n + b"<b>" + b"<a/>" * min(rest, 4000)
        peers = [loop.add(Peer(), self.port) for _ in range(a.junk_conns)]

        def on_data(p, data):
            if p.features and not getattr(p, "sent", False):
                p.sent = True
                loop.write(p, junk)

        for p in peers:
            p.on_data = on_data
        loop.run(a.flood_s, until=lambda: all(
            p.closed or (getattr(p, "sent", False) and not p.out)
            for p in peers))
        loop.run(a.hold)
        return {"conns": len(peers), "bytes_each": len(junk),
                "sent_whole": sum(1 for p in peers if getattr(p, "sent", 0)
                                  and not p.out),
                "closed_by_server": sum(p.closed == "server" for p in peers),
                "stream_errors": sum(p.stream_error for p in peers),
                "open_at_end": sum(p.closed is None for p in peers)}

    # 3. XEP-0198 sessions that hibernate full of large stanzas
    def setup_sm(self, loop):
        a = self.a
        sms = []
        for i in range(a.sm_sessions):
            s = Session(self.port).login("sm%d" % i)
            s.send("<enable xmlns='urn:xmpp:sm:3' resume='true'/>")
            s.expect(rb"<enabled[^>]*>")
            sms.append(s)
        sender = Session(self.port).login("sender")
        return {"sms": sms, "sender": sender}

    def flood_sm(self, loop, ctx, rw, mw):
        a = self.a
        body = b"x" * a.sm_bytes
        targets = [s.jid for s in ctx["sms"]]
        total = a.sm_sessions * a.sm_stanzas
        state = {"n": 0}

        def refill(p):
            while state["n"] < total and len(p.out) < (1 << 20):
                jid = targets[state["n"] % len(targets)]
                p.out += (b"<message type='chat' to='%s'><body>"
                          % jid.encode()) + body + b"</body></message>"
                state["n"] += 1
            return state["n"] < total

        sender = Peer(ctx["sender"].s)
        sender.refill = refill
        loop.add(sender)
        receivers = [loop.add(Peer(s.s)) for s in ctx["sms"]]
        want = total * a.sm_bytes
        loop.run(a.flood_s, until=lambda: sum(
            p.got for p in receivers) >= want * 0.99 or all(
            p.closed for p in receivers))
        got = sum(p.got for p in receivers)
        kicked = sum(p.closed == "server" or p.stream_error
                     for p in receivers)
        for p in receivers:  # drop the connections without a word
            loop.end(p, "dropped")
        loop.run(a.hold)

        def after(row):
            log = row["router_log"]
            row["figures"]["hibernated"] = log.count(
                "connection lost; resumable")

        ctx["after"] = after
        return {"sessions": a.sm_sessions, "stanzas": total,
                "bytes_each": a.sm_bytes, "sent": state["n"],
                "received_MiB": mib(got / 1024.0), "kicked": kicked}

    # 4. a room flood
    def setup_room(self, loop):
        a = self.a
        occ = []
        for i in range(a.room_occupants):
            s = Session(self.port).login("occ%d" % i)
            s.send("<presence to='%s/n%d'><x xmlns='http://jabber.org/"
                   "protocol/muc'><history maxstanzas='0'/></x></presence>"
                   % (ROOM, i))
            m = s.expect(rb"<presence[^>]*from=['\"]%s/n%d['\"].*?"
                         rb"</presence>" % (ROOM.encode(), i))
            if i == 0 and b"201" in m.group(0):
                s.send("<iq type='set' id='cfg' to='%s'><query xmlns='http://"
                       "jabber.org/protocol/muc#owner'><x xmlns='jabber:x:"
                       "data' type='submit'/></query></iq>" % ROOM)
                s.expect(rb"<iq[^>]*id=['\"]cfg['\"]")
            occ.append(s)
        return {"occ": occ}

    def flood_room(self, loop, ctx, rw, mw):
        a = self.a
        occ = ctx["occ"]
        peers = [loop.add(Peer(s.s)) for s in occ]
        flooder = peers[0]
        state = {"p": 0, "m": 0}

        def refill(p):
            while len(p.out) < (1 << 20):
                if state["p"] < a.room_presences:
                    fill = b"abcdefgh"[state["p"] % 8:][:1] * \
                        a.room_presence_bytes
                    p.out += (b"<presence to='%s/n0'><status>" %
                              ROOM.encode()) + fill + b"</status></presence>"
                    state["p"] += 1
                elif state["m"] < a.room_msgs:
                    p.out += (b"<message type='groupchat' to='%s'><body>"
                              % ROOM.encode()) + b"m" * a.room_msg_bytes + \
                        b"</body></message>"
                    state["m"] += 1
                else:
                    return False
            return True

        flooder.refill = refill
        loop.update(flooder)
        want = (a.room_presences * a.room_presence_bytes +
                a.room_msgs * a.room_msg_bytes) * len(peers) * 0.9
        loop.run(a.flood_s, until=lambda: flooder.refill is None and (
            sum(p.got for p in peers) >= want or all(
                p.closed for p in peers)))
        loop.run(a.hold)
        # Does the room still work? occupant 1 says something and waits
        # for the room's echo.
        alive = "n/a"
        if len(occ) > 1 and peers[1].closed is None:
            s = occ[1]
            loop.sel.unregister(s.s)
            peers[1].closed = "check"
            s.s.setblocking(True)
            s.buf = b""
            try:
                s.send("<message type='groupchat' to='%s'><body>alive-check"
                       "</body></message>" % ROOM)
                # the room's copy, not an error bounce carrying the body
                s.expect(rb"<message[^>]*type=['\"]groupchat['\"][^>]*>"
                         rb"(?:(?!</message>).)*alive-check")
                alive = "yes"
            except OSError as e:
                alive = "no (%s)" % str(e)[:60]

        def after(row):
            f = row["figures"]
            f["link_dropped"] = row["router_log"].count(
                "component conference.localhost disconnected")
            f["muc_too_slow"] = row["muc_log"].count("reads too slowly")
            f["muc_link_lost"] = row["muc_log"].count(
                "link lost: occupants removed")

        ctx["after"] = after
        return {"occupants": len(peers), "presences": state["p"],
                "presence_bytes": a.room_presence_bytes,
                "msgs": state["m"], "msg_bytes": a.room_msg_bytes,
                "offered_MiB": mib((a.room_presences * a.room_presence_bytes
                                    + a.room_msgs * a.room_msg_bytes) *
                                   len(peers) / 1024.0),
                "delivered_MiB": mib(sum(p.got for p in peers) / 1024.0),
                "occupants_cut": sum(p.closed == "server" for p in peers),
                "room_answers": alive}

    def table(self):
        """The figures as one markdown table (docs/security.md)."""
        def probe_cell(p):
            if p is None:
                return "no answer"
            t = "%s / %s / %s" % (fmt_ms(p["login_p50"]), fmt_ms(p["lat_p50"]),
                                  fmt_ms(p["lat_p99"]))
            if p["failures"]:
                t += " (%d failed)" % p["failures"]
            return t

        print("\n| phase | router RSS MiB: before / peak (VmHWM) | router CPU "
              "| probe idle: login / p50 / p99 ms | probe during: login / "
              "p50 / p99 ms, login max | outcome |")
        print("|---|---|---|---|---|---|")
        for r in self.rows:
            f = r["figures"]
            outcome = ", ".join("%s %s" % (k, v) for k, v in f.items())
            if "muc_peak" in r:
                outcome += (", xmppd-muc RSS %s → %s MiB, alive %s" % (
                    mib(r["muc_rss_before"]), mib(r["muc_hwm"]),
                    "yes" if r["muc_alive"] else "no"))
            if r["log_lines"] > 10000:
                outcome += ", router log %d lines (%s MiB) in %.0f s" % (
                    r["log_lines"], mib(r["log_bytes"] / 1024.0),
                    r["phase_s"])
            d = r["during"]
            print("| %s | %s / %s (%s) | %.0f %% | %s | %s, %s | %s |" % (
                r["phase"], mib(r["rss_before"]), mib(r["rss_peak"]),
                mib(r["hwm"]), r["cpu"], probe_cell(r["baseline"]),
                probe_cell(d), fmt_ms(d["login_max"]) if d else "n/a",
                outcome))

    def run(self):
        phases = {
            "conns": (None, self.flood_conns, False),
            "junk": (None, self.flood_junk, False),
            "sm": (self.setup_sm, self.flood_sm, False),
            "room": (self.setup_room, self.flood_room, True),
        }
        for name in self.a.phases:
            setup, flood, muc = phases[name]
            try:
                self.phase(name, setup, flood, muc)
            except (OSError, self.xd.Failure) as e:
                print("%s: failed: %s" % (name, e), flush=True)
                self.stop()


def keyvals(items):
    out = {}
    for it in items or []:
        k, sep, v = it.partition("=")
        if not sep:
            raise SystemExit("flood.py: --set wants KEY=VALUE, not %r" % it)
        out[k.strip()] = v.strip()
    return out


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--probe":
        probe(int(sys.argv[2]), float(sys.argv[3]), "probe")
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get(
        "XD_BUILD_DIR", os.path.join(HERE, "..", "..", "build")))
    ap.add_argument("--phases", default="conns,junk,sm,room")
    ap.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="a key of the router's [xmppd] section")
    ap.add_argument("--muc-set", action="append", metavar="KEY=VALUE",
                    help="a key of xmppd-muc's [muc] section")
    ap.add_argument("--router-nofile", type=int, default=0,
                    help="the router's RLIMIT_NOFILE (default: inherited)")
    ap.add_argument("--conns", type=int, default=10000)
    ap.add_argument("--ramp", type=int, default=200,
                    help="connections being set up at once")
    ap.add_argument("--conn-time", type=float, default=20)
    ap.add_argument("--junk-conns", type=int, default=250)
    ap.add_argument("--junk-bytes", type=int, default=80000)
    ap.add_argument("--sm-sessions", type=int, default=10)
    ap.add_argument("--sm-stanzas", type=int, default=100,
                    help="per session")
    ap.add_argument("--sm-bytes", type=int, default=200000)
    ap.add_argument("--room-occupants", type=int, default=30)
    ap.add_argument("--room-presences", type=int, default=10)
    ap.add_argument("--room-presence-bytes", type=int, default=200000)
    ap.add_argument("--room-msgs", type=int, default=100)
    ap.add_argument("--room-msg-bytes", type=int, default=16000)
    ap.add_argument("--flood-s", type=float, default=20,
                    help="longest a flood may take")
    ap.add_argument("--hold", type=float, default=3,
                    help="seconds the flood's sockets are held afterwards")
    ap.add_argument("--baseline-s", type=float, default=5)
    ap.add_argument("--probe-s", type=float, default=10)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--keep", action="store_true",
                    help="keep the scratch folder (configuration and logs)")
    a = ap.parse_args()
    a.phases = [p for p in a.phases.split(",") if p]
    a.set = keyvals(a.set)
    a.muc_set = keyvals(a.muc_set)
    for p in a.phases:
        if p not in ("conns", "junk", "sm", "room"):
            raise SystemExit("flood.py: no phase %r" % p)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    os.environ["XD_BUILD_DIR"] = os.path.abspath(a.build)
    sys.path.insert(0, os.path.join(HERE, "..", "integration"))
    import xdtest  # after XD_BUILD_DIR: it reads it on import

    b = Bench(a, xdtest)
    # The driver's own descriptor limit goes up only now: the servers
    # started later get --router-nofile or what the driver was given.
    need = a.conns + a.junk_conns + 200
    if soft < need:
        if hard < need:
            print("flood.py: RLIMIT_NOFILE hard limit %d < %d: at most %d "
                  "connections" % (hard, need, hard - 300))
            a.conns = min(a.conns, hard - a.junk_conns - 300)
    if a.router_nofile == 0:
        a.router_nofile = soft
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    print("flood.py: xmppd %s, router RLIMIT_NOFILE %d, driver %d, "
          "%d cores, scratch %s" % (xdtest.XMPPD, a.router_nofile, hard,
                                    os.cpu_count(), b.rig.dir), flush=True)
    print("flood.py: [xmppd] defaults but %s; [muc] defaults but %s" % (
        ", ".join("%s = %s" % kv for kv in b.keys.items()),
        ", ".join("%s = %s" % kv for kv in a.muc_set.items()) or "none"),
        flush=True)
    try:
        b.run()
        b.table()
    finally:
        b.stop()
        b.rig.procs = []
        import atexit
        atexit.unregister(b.rig.close)
        if a.keep:
            print("flood.py: kept %s" % b.rig.dir)
        else:
            shutil.rmtree(b.rig.dir, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(b.rows, f, indent=1)


if __name__ == "__main__":
    main()
