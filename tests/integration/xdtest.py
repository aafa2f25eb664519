"""Harness for the integration tests: real binaries, real peers, loopback.

Each test makes a Rig (a temporary folder with a certificate and a
configuration on free ports), starts the processes it needs, and calls
rig.close() (also registered with atexit) which stops every process by PID.
A process that does not exit cleanly on SIGTERM fails the test: the
sanitizer build reports leaks and errors that way.
"""

import asyncio
import atexit
import base64
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import slixmpp
from slixmpp.xmlstream.handler import Callback
from slixmpp.xmlstream.matcher import MatchXPath

BUILD = os.environ.get("XD_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")
XMPPD = os.path.join(BUILD, "xmppd", "xmppd")
XMPPDCTL = os.path.join(BUILD, "xmppd", "xmppdctl")
ECHO = os.path.join(BUILD, "components", "echo", "xmppd-echo")
TIMEOUT = 15


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok:", what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(pred, what, timeout=TIMEOUT):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return
        time.sleep(0.05)
    raise Failure("timed out waiting for " + what)


class Proc:
    def __init__(self, name, argv, log, env=None):
        self.name = name
        self.log = log
        self.peer = False  # a foreign program: its exit status is not ours
        self.out = open(log, "ab")
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=self.out,
                                  env=env)

    def text(self):
        with open(self.log, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, needle, timeout=TIMEOUT):
        wait_for(lambda: needle in self.text() or self.p.poll() is not None,
                 "'%s' in %s's log" % (needle, self.name), timeout)
        if needle not in self.text():
            raise Failure("%s exited (%s) before logging '%s'"
                          % (self.name, self.p.returncode, needle))

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops the process; returns its exit status."""
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
                raise Failure("%s did not stop on %s" % (self.name, sig))
        self.out.close()
        return self.p.returncode


class Rig:
    """A temporary xmppd installation on free loopback ports."""

    def __init__(self, **xmppd_keys):
        self.dir = tempfile.mkdtemp(prefix="xdtest-")
        self.procs = []
        self.c2s_port = free_port()
        self.c2s_tls_port = free_port()
        self.component_port = free_port()
        self.secret = "s3cret-echo"
        self.cert = os.path.join(self.dir, "localhost.crt")
        self.key = os.path.join(self.dir, "localhost.key")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-days", "2", "-subj", "/CN=localhost", "-addext",
             "subjectAltName=DNS:localhost,DNS:*.localhost",
             "-keyout", self.key, "-out", self.cert],
            check=True, capture_output=True)
        keys = {
            "hosts": "localhost",
            "db_path": os.path.join(self.dir, "xmppd.db"),
            "control_socket": os.path.join(self.dir, "xmppd.sock"),
            "tls_cert": self.cert,
            "tls_key": self.key,
            "c2s_address": "127.0.0.1",
            "c2s_port": self.c2s_port,
            "c2s_tls_port": self.c2s_tls_port,
            "component_port": self.component_port,
        }
        keys.update(xmppd_keys)
        self.config = os.path.join(self.dir, "xmppd.ini")
        with open(self.config, "w") as f:
            f.write("[global]\nlog_level = info\n\n[xmppd]\n")
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
            for domain in ("echo.localhost", "comp.localhost",
                           "offline.localhost"):
                f.write("\n[component %s]\nsecret = %s\n"
                        % (domain, self.secret))
            f.write("\n[echo]\ndomain = echo.localhost\nsecret = %s\n"
                    "router_host = 127.0.0.1\nrouter_port = %d\n"
                    "reconnect_min_ms = 100\n"
                    % (self.secret, self.component_port))
        self.xmppd = None
        atexit.register(self.close)

    def ctl(self, *args, stdin=None):
        return subprocess.run([XMPPDCTL, "-c", self.config] + list(args),
                              input=stdin, capture_output=True, text=True,
                              timeout=TIMEOUT)

    def adduser(self, jid, password):
        r = self.ctl("adduser", jid, password)
        if r.returncode != 0:
            raise Failure("adduser %s: %s" % (jid, r.stderr))

    def start(self, name, argv):
        p = Proc(name, argv, os.path.join(self.dir, name + ".log"))
        self.procs.append(p)
        return p

    def start_xmppd(self):
        self.xmppd = self.start("xmppd", [XMPPD, "-c", self.config])
        self.xmppd.wait_log(" ready")
        return self.xmppd

    def start_echo(self):
        echo = self.start("xmppd-echo", [ECHO, "-c", self.config])
        self.xmppd.wait_log("component echo.localhost connected")
        return echo

    def close(self):
        """Stops everything (SIGTERM) and fails if any exit was unclean."""
        bad = []
        for p in reversed(self.procs):
            try:
                rc = p.stop()
            except Failure as e:
                bad.append(str(e))
                continue
            if rc not in (0, None) and not p.peer:
                bad.append("%s exited with status %s" % (p.name, rc))
        self.procs = []
        if bad:
            self.dump_logs()
            raise Failure("; ".join(bad))
        shutil.rmtree(self.dir, ignore_errors=True)

    def dump_logs(self):
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                print("----- %s -----" % name)
                with open(os.path.join(self.dir, name), "rb") as f:
                    sys.stdout.write(f.read().decode(errors="replace")[-6000:])


class Client(slixmpp.ClientXMPP):
    """A slixmpp client that accepts the test's self-signed certificate
    and records what happens to it."""

    def __init__(self, jid, password, mech=None):
        super().__init__(jid, password, sasl_mech=mech)
        self.ssl_context.check_hostname = False
        self.ssl_context.verify_mode = ssl.CERT_NONE
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0199")
        self.started = asyncio.Event()
        self.auth_failed = asyncio.Event()
        self.messages = asyncio.Queue()
        self.add_event_handler("session_start",
                               lambda ev: self.started.set())
        self.add_event_handler("failed_auth",
                               lambda ev: self.auth_failed.set())
        # Every message stanza, not only those with a body (slixmpp's
        # "message" event skips carbons, chat states and the like).
        self.register_handler(Callback(
            "every message", MatchXPath("{jabber:client}message"),
            lambda m: self.messages.put_nowait(m)))
        self.stream_error = asyncio.Future()
        self.add_event_handler("stream_error", self._on_stream_error)

    def _on_stream_error(self, err):
        if not self.stream_error.done():
            self.stream_error.set_result(err["condition"])


async def login(rig, jid, password, mech=None, direct_tls=False):
    """Connects and waits for the session; returns the client."""
    c = Client(jid, password, mech)
    port = rig.c2s_tls_port if direct_tls else rig.c2s_port
    c.connect(address=("127.0.0.1", port), use_ssl=direct_tls)
    done, _ = await asyncio.wait(
        [asyncio.ensure_future(c.started.wait()),
         asyncio.ensure_future(c.auth_failed.wait())],
        timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    if not c.started.is_set():
        c.disconnect()
        raise Failure("%s could not log in (auth failed: %s)"
                      % (jid, c.auth_failed.is_set()))
    return c


async def send_iq(c, itype, payload, to=None):
    """Sends an iq of `itype` with the XML `payload`; returns (reply, None)
    or (error reply, its condition)."""
    import xml.etree.ElementTree as ET
    q = c.Iq(stype=itype, sto=to)
    q.append(ET.fromstring(payload))
    try:
        return await q.send(timeout=TIMEOUT), None
    except slixmpp.exceptions.IqError as e:
        return e.iq, e.iq["error"]["condition"]


async def can_login(rig, jid, password):
    """True when jid/password gets a session; the client is let go."""
    c = Client(jid, password)
    c.connect(address=("127.0.0.1", rig.c2s_port))
    await asyncio.wait(
        [asyncio.ensure_future(c.started.wait()),
         asyncio.ensure_future(c.auth_failed.wait())],
        timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    ok = c.started.is_set()
    c.disconnect()
    return ok


async def next_message(client, timeout=TIMEOUT):
    try:
        return await asyncio.wait_for(client.messages.get(), timeout)
    except asyncio.TimeoutError:
        raise Failure("no message for %s within %ss"
                      % (client.boundjid, timeout))


async def logout(*clients):
    for c in clients:
        c.disconnect()
    for c in clients:
        try:
            await asyncio.wait_for(c.disconnected, 5)
        except asyncio.TimeoutError:
            pass


def raw_stream(port, to="localhost", ns="jabber:client", tls=False):
    """A plain socket with our stream header sent; returns the socket."""
    s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.sendall(("<?xml version='1.0'?><stream:stream to='%s' xmlns='%s' "
               "xmlns:stream='http://etherx.jabber.org/streams' "
               "version='1.0'>" % (to, ns)).encode())
    return s


def read_until_closed(s, limit=1 << 20):
    """Everything the server sends until it closes the connection."""
    data = b""
    s.settimeout(TIMEOUT)
    while len(data) < limit:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


def read_until(s, needle, timeout=TIMEOUT):
    data = b""
    s.settimeout(timeout)
    while needle.encode() not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data.decode(errors="replace")


class RawClient:
    """A client on a bare socket, for what libraries do not let a test do:
    exact bytes, stream management by hand, dropping the connection
    without a word. Blocking: call it from run_in_executor."""

    def __init__(self, rig, tls=True):
        port = rig.c2s_tls_port if tls else rig.c2s_port
        self.s = raw_stream(port, tls=tls)
        self.buf = ""

    def send(self, xml):
        self.s.sendall(xml.encode())

    def expect(self, needle, timeout=TIMEOUT):
        """Reads until `needle` arrives; returns everything up to and
        including it and keeps the rest for the next call."""
        self.s.settimeout(timeout)
        while needle not in self.buf:
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                raise Failure("no %r within %ss; got %r"
                              % (needle, timeout, self.buf[-500:]))
            if not chunk:
                raise Failure("closed before %r; got %r"
                              % (needle, self.buf[-500:]))
            self.buf += chunk.decode(errors="replace")
        i = self.buf.index(needle) + len(needle)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def login(self, user, password, host="localhost"):
        """SASL PLAIN (over TLS) and the stream restart; no bind yet."""
        self.expect("</stream:features>")
        cred = base64.b64encode(
            ("\0%s\0%s" % (user, password)).encode()).decode()
        self.send("<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
                  "mechanism='PLAIN'>%s</auth>" % cred)
        self.expect("<success")
        self.send("<stream:stream to='%s' xmlns='jabber:client' "
                  "xmlns:stream='http://etherx.jabber.org/streams' "
                  "version='1.0'>" % host)
        return self.expect("</stream:features>")

    def bind(self, resource):
        self.send("<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:"
                  "xml:ns:xmpp-bind'><resource>%s</resource></bind></iq>"
                  % resource)
        return self.expect("</iq>")

    def drop(self):
        """Ends the TCP connection without closing the stream."""
        try:
            self.s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.s.close()


def main(test, **xmppd_keys):
    """Runs `test(rig)` (a coroutine function) on a Rig configured with
    xmppd_keys and reports the verdict."""
    rig = Rig(**xmppd_keys)
    ok = False
    try:
        asyncio.get_event_loop().run_until_complete(
            asyncio.wait_for(test(rig), 120))
        ok = True
    except Failure as e:
        print("FAIL:", e)
    except Exception:
        import traceback
        traceback.print_exc()
    if not ok:
        rig.dump_logs()
    try:
        rig.close()
    except Failure as e:
        print("FAIL:", e)
        ok = False
    sys.exit(0 if ok else 1)
