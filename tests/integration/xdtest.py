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
MUC = os.path.join(BUILD, "components", "muc", "xmppd-muc")
MUC_DOMAIN = "conference.localhost"
TIMEOUT = 15


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok:", what)


def passed(what):
    """Reports a step whose check was the wait before it (every wait here
    raises Failure or a time-out when what it waits for does not come)."""
    print("ok:", what)


# ctest gives every integration test a block of PORT_BLOCK ports of its
# own, below the kernel's ephemeral range (32768 and up), so that tests run
# in parallel never pick the same port and no outgoing connection takes a
# port a rig is about to listen on.
PORT_BLOCK = 100
_port_next = [int(os.environ.get("XD_PORT_BASE", "0"))]


def free_ports(n):
    """n distinct loopback ports nobody listens on: the next ones of this
    test's block (XD_PORT_BASE), else ports the kernel picks. Each is held
    until all are picked: ports picked one after the other can come back
    twice."""
    socks = []
    base = int(os.environ.get("XD_PORT_BASE", "0"))
    try:
        while len(socks) < n:
            s = socket.socket()
            port = 0
            if base:
                port = _port_next[0]
                _port_next[0] += 1
                if port >= base + PORT_BLOCK:
                    raise Failure("the test used up its %d ports"
                                  % PORT_BLOCK)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                s.close()  # taken: try the next one
                continue
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


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
        self.c2s_port, self.c2s_tls_port, self.component_port = \
            free_ports(3)
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
            # Every test connects from 127.0.0.1, many times a minute: the
            # per-address caps meant for a real server would trip them
            # (test_security_limits.py tests the caps themselves).
            "c2s_max_connections_per_address": 10000,
            "c2s_connects_per_address_per_min": 0,
            "sasl_ip_max_concurrent": 100,
            # The tests' accounts have short passwords ("pw"); the minimum
            # itself is tested in test_xmppdctl.py.
            "password_min_length": 1,
        }
        keys.update(xmppd_keys)
        self.xmppd_keys = keys
        # The [component DOMAIN] sections written; a test may add its own
        # (then write_config()).
        self.components = ["echo.localhost", "comp.localhost",
                           "offline.localhost", MUC_DOMAIN]
        self.muc_keys = {
            "domain": MUC_DOMAIN,
            "secret": self.secret,
            "router_host": "127.0.0.1",
            "router_port": self.component_port,
            "reconnect_min_ms": 100,
            "db_path": os.path.join(self.dir, "muc.db"),
            "admins": "admin@localhost",
        }
        self.config = os.path.join(self.dir, "xmppd.ini")
        self.write_config()
        self.xmppd = None
        atexit.register(self.close)

    def write_config(self):
        """(Re)writes the configuration file from xmppd_keys and muc_keys."""
        keys = self.xmppd_keys
        with open(self.config, "w") as f:
            f.write("[global]\nlog_level = info\n\n[xmppd]\n")
            for k, v in keys.items():
                f.write("%s = %s\n" % (k, v))
            for domain in self.components:
                f.write("\n[component %s]\nsecret = %s\n"
                        % (domain, self.secret))
            f.write("\n[echo]\ndomain = echo.localhost\nsecret = %s\n"
                    "router_host = 127.0.0.1\nrouter_port = %d\n"
                    "reconnect_min_ms = 100\n"
                    % (self.secret, self.component_port))
            f.write("\n[muc]\n")
            for k, v in self.muc_keys.items():
                f.write("%s = %s\n" % (k, v))

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

    def start_muc(self, **keys):
        """Starts xmppd-muc ([muc] section, plus keys) and waits until the
        router has its link."""
        if keys:
            self.muc_keys.update(keys)
            self.write_config()
        muc = self.start("xmppd-muc", [MUC, "-c", self.config])
        self.xmppd.wait_log("component %s connected"
                            % self.muc_keys["domain"])
        return muc

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


def start_prosody(rig, component_domain, users, password):
    """Debian's Prosody as the router on the rig's ports (c2s with
    STARTTLS required, XEP-0114 for component_domain with the rig's
    secret), with `users` registered on localhost. Run as the prosody user
    when we are root (prosody -F started by root keeps root). Returns the
    Proc once its c2s port answers."""
    import pwd
    if shutil.which("prosody") is None:
        raise Failure("prosody is not installed (contrib/deps.sh test "
                      "installs it)")
    data = os.path.join(rig.dir, "prosody-data")
    os.makedirs(data)
    cfg = os.path.join(rig.dir, "prosody.cfg.lua")
    with open(cfg, "w") as f:
        f.write("""
daemonize = false
pidfile = "{data}/prosody.pid"
data_path = "{data}"
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{ }}
component_ports = {{ {comp} }}
component_interface = "127.0.0.1"
http_ports = {{ }}
https_ports = {{ }}
authentication = "internal_hashed"
c2s_require_encryption = true
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "ping" }}
modules_disabled = {{ "s2s" }}
log = {{ info = "{data}/prosody.log" }}
ssl = {{ certificate = "{cert}"; key = "{key}" }}

VirtualHost "localhost"

Component "{domain}"
    component_secret = "{secret}"
""".format(data=data, c2s=rig.c2s_port, comp=rig.component_port,
           cert=rig.cert, key=rig.key, secret=rig.secret,
           domain=component_domain))
    as_prosody = []
    if os.getuid() == 0:
        u = pwd.getpwnam("prosody")
        os.chmod(rig.dir, 0o755)
        for path in (data, rig.key, rig.cert, cfg):
            os.chown(path, u.pw_uid, u.pw_gid)
        as_prosody = ["setpriv", "--reuid=prosody", "--regid=prosody",
                      "--init-groups"]
    for user in users:
        r = subprocess.run(as_prosody + ["prosodyctl", "--config", cfg,
                                         "register", user, "localhost",
                                         password],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "prosodyctl registers %s (%s)"
              % (user, r.stderr.strip()))
    prosody = rig.start("prosody", as_prosody + ["prosody", "--config", cfg,
                                                 "-F"])
    prosody.peer = True  # its exit status on SIGTERM is its own business

    def listening():
        try:
            socket.create_connection(("127.0.0.1", rig.c2s_port), 1).close()
            return True
        except OSError:
            return False
    wait_for(listening, "prosody's c2s port")
    return prosody


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


# ---- MUC moderation/administration helpers (test_muc_admin.py and
# test_muc_owner.py): stanzas kept per client and matched in any order,
# raw muc#admin / muc#owner / data-form exchanges. ----------------------
from xml.sax.saxutils import quoteattr as _qa, escape as _esc

NS_MUC = "http://jabber.org/protocol/muc"
NS_MUC_USER = NS_MUC + "#user"
NS_MUC_ADMIN = NS_MUC + "#admin"
NS_MUC_OWNER = NS_MUC + "#owner"
NS_XDATA = "jabber:x:data"


class Inbox:
    """Stanzas of one kind a client received, taken out by predicate."""

    def __init__(self):
        self.items = []
        self.ev = asyncio.Event()

    def put(self, st):
        self.items.append(st)
        self.ev.set()

    async def get(self, pred, what, timeout=TIMEOUT):
        end = time.time() + timeout
        while True:
            for i, st in enumerate(self.items):
                if pred(st):
                    del self.items[i]
                    return st
            left = end - time.time()
            if left <= 0:
                raise Failure("timed out waiting for %s; had: %s" % (
                    what, "\n  ".join([""] + [str(s) for s in
                                              self.items[-6:]])))
            self.ev.clear()
            try:
                await asyncio.wait_for(self.ev.wait(), left)
            except asyncio.TimeoutError:
                pass

    async def none(self, pred, what, wait=0.6):
        await asyncio.sleep(wait)
        bad = [s for s in self.items if pred(s)]
        if bad:
            raise Failure("unexpected %s: %s" % (what, bad[0]))
        passed("no " + what)

    def clear(self):
        self.items = []


async def muc_login(rig, jid, password):
    """login() plus c.pres and c.msgs inboxes of every presence/message."""
    c = await login(rig, jid, password)
    c.pres, c.msgs = Inbox(), Inbox()
    c.register_handler(Callback("muc pres", MatchXPath(
        "{jabber:client}presence"), c.pres.put))
    c.register_handler(Callback("muc msgs", MatchXPath(
        "{jabber:client}message"), c.msgs.put))
    return c


def muc_x(st):
    return st.xml.find("{%s}x" % NS_MUC_USER)


def muc_codes(st):
    x = muc_x(st)
    return set() if x is None else {s.get("code") for s in
                                     x.findall("{%s}status" % NS_MUC_USER)}


def muc_item(st):
    """(attributes of the muc#user <item/>, actor attributes, reason)."""
    x = muc_x(st)
    it = None if x is None else x.find("{%s}item" % NS_MUC_USER)
    if it is None:
        return {}, None, None
    actor = it.find("{%s}actor" % NS_MUC_USER)
    return (dict(it.attrib), None if actor is None else dict(actor.attrib),
            it.findtext("{%s}reason" % NS_MUC_USER))


def stanza_error(st):
    return st["error"]["condition"] if st["type"] == "error" else None


async def muc_join(c, occupant, password=None, extra=""):
    """Sends a MUC join to room@service/nick; returns the self-presence
    (status 110) or the error presence."""
    pw = "<password>%s</password>" % _esc(password) if password else ""
    c.send_raw("<presence to=%s><x xmlns='%s'>%s<history maxstanzas='0'/>"
               "</x>%s</presence>" % (_qa(occupant), NS_MUC, pw, extra))
    return await c.pres.get(
        lambda p: str(p["from"]) == occupant and
        (p["type"] == "error" or "110" in muc_codes(p)),
        "%s's join of %s" % (c.boundjid.bare, occupant))


async def iq_xml(c, itype, to, payload):
    """send_iq, returning (reply, condition, description of the exchange
    for failure messages)."""
    reply, cond = await send_iq(c, itype, payload, to=to)
    return reply, cond, "\n  sent: <iq type='%s' to='%s'>%s</iq>\n  got: %s" \
        % (itype, to, payload, reply)


def admin_query(*items):
    """A muc#admin query of items, each a dict of attributes with an
    optional 'reason'."""
    out = ""
    for it in items:
        it = dict(it)
        reason = it.pop("reason", None)
        attrs = "".join(" %s=%s" % (k, _qa(v)) for k, v in it.items())
        out += "<item%s>%s</item>" % (
            attrs, "<reason>%s</reason>" % _esc(reason) if reason else "")
    return "<query xmlns='%s'>%s</query>" % (NS_MUC_ADMIN, out)


def form_fields(x):
    """{var: (type, [values], [option values])} of a data form element."""
    out = {}
    if x is None:
        return out
    for f in x.findall("{%s}field" % NS_XDATA):
        out[f.get("var")] = (
            f.get("type"), [v.text or "" for v in
                            f.findall("{%s}value" % NS_XDATA)],
            [o.findtext("{%s}value" % NS_XDATA) for o in
             f.findall("{%s}option" % NS_XDATA)])
    return out


def submit_form(form_type, values):
    """A submitted data form; values maps var -> str or list of str."""
    fields = "<field var='FORM_TYPE' type='hidden'><value>%s</value></field>" \
        % form_type if form_type else ""
    for var, v in values.items():
        vs = v if isinstance(v, (list, tuple)) else [v]
        fields += "<field var=%s>%s</field>" % (_qa(var), "".join(
            "<value>%s</value>" % _esc(str(x)) for x in vs))
    return "<x xmlns='%s' type='submit'>%s</x>" % (NS_XDATA, fields)


# ---- MUC helpers (XEP-0045 over raw stanzas; used by test_muc_*.py) --------
# Additive only; names start with mc_ (the muc_* helpers above belong to
# test_muc_admin.py). A MUC client is a Client from mc_login(): it also has
# c.presences, a queue of every presence stanza it receives.
MUC_NS = NS_MUC  # the same namespaces under the names these tests use
MUC_USER = NS_MUC_USER
MUC_OWNER = NS_MUC_OWNER
MUC_ADMIN = NS_MUC_ADMIN
XDATA = NS_XDATA
STANZAS_NS = "urn:ietf:params:xml:ns:xmpp-stanzas"


async def mc_login(rig, jid, password, initial_presence=True):
    """login() with a presence queue, then an initial presence."""
    c = await login(rig, jid, password)
    c.presences = asyncio.Queue()
    c.register_handler(Callback(
        "every presence", MatchXPath("{jabber:client}presence"),
        lambda p: c.presences.put_nowait(p)))
    if initial_presence:
        c.send_presence()
    return c


def mc_log_count(proc, needle):
    """How many times `needle` is in proc's log (restarts append to it)."""
    return proc.text().count(needle)


def mc_wait_log_count(proc, needle, n, timeout=TIMEOUT):
    """Waits until proc's log holds `needle` at least n times."""
    wait_for(lambda: mc_log_count(proc, needle) >= n,
             "'%s' %d times in %s's log" % (needle, n, proc.name), timeout)


def mc_drain(*clients):
    """Forgets whatever the clients received so far."""
    for c in clients:
        for q in (c.messages, getattr(c, "presences", None)):
            while q is not None and not q.empty():
                q.get_nowait()


def mc_error(st):
    """(condition, type) of an error stanza, or (None, None)."""
    err = st.xml.find("{jabber:client}error")
    if err is None:
        return None, None
    for child in err:
        if child.tag.startswith("{%s}" % STANZAS_NS) and \
                not child.tag.endswith("}text"):
            return child.tag.split("}")[1], err.get("type")
    return None, err.get("type")


def mc_codes(st):
    """The muc#user status codes of a stanza, as a set of ints."""
    x = st.xml.find("{%s}x" % MUC_USER)
    if x is None:
        return set()
    return {int(s.get("code")) for s in x.findall("{%s}status" % MUC_USER)
            if (s.get("code") or "").isdigit()}


def mc_item(st):
    """The attributes of the muc#user <item/> of a stanza ({} if none)."""
    item = st.xml.find("{%s}x/{%s}item" % (MUC_USER, MUC_USER))
    return dict(item.attrib) if item is not None else {}


def mc_occupant_id(st):
    """XEP-0421 occupant id of a stanza from a room, or None."""
    o = st.xml.find("{urn:xmpp:occupant-id:0}occupant-id")
    return o.get("id") if o is not None else None


def mc_from(st):
    return st.xml.get("from") or ""


async def mc_next(queue, pred, what, timeout=TIMEOUT):
    """The next stanza of `queue` satisfying pred (others are dropped)."""
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            raise Failure("timed out waiting for " + what)
        try:
            st = await asyncio.wait_for(queue.get(), left)
        except asyncio.TimeoutError:
            raise Failure("timed out waiting for " + what)
        if pred(st):
            return st


async def expect(queue, pred, what, timeout=TIMEOUT):
    """mc_next, reported as a passed step."""
    st = await mc_next(queue, pred, what, timeout)
    passed(what)
    return st


async def mc_collect(queue, wait=0.5):
    """Everything arriving in `queue` within `wait` seconds of quiet."""
    got = []
    while True:
        try:
            got.append(await asyncio.wait_for(queue.get(), wait))
        except asyncio.TimeoutError:
            return got


async def mc_join(c, room, nick, password=None, history=None, extra="",
                   timeout=TIMEOUT):
    """Enters room/nick. Returns (others, me): `others` are the presences
    from the room that came before `me`, which is our self-presence (status
    110) or the error presence. history: dict of <history/> attributes."""
    x = ""
    if password is not None:
        x += "<password>%s</password>" % password
    if history is not None:
        x += "<history %s/>" % " ".join("%s='%s'" % kv
                                        for kv in history.items())
    c.send_raw("<presence to='%s/%s'>%s<x xmlns='%s'>%s</x></presence>"
               % (room, nick, extra, MUC_NS, x))
    others = []
    end = time.time() + timeout
    while True:
        p = await mc_next(
            c.presences,
            lambda p: mc_from(p).split("/")[0] == room,
            "%s's self-presence from %s" % (c.boundjid, room),
            max(0.1, end - time.time()))
        if p["type"] == "error" or 110 in mc_codes(p):
            return others, p
        others.append(p)


async def mc_leave(c, room, nick):
    """Leaves; returns the unavailable self-presence (status 110)."""
    c.send_raw("<presence to='%s/%s' type='unavailable'/>" % (room, nick))
    return await mc_next(
        c.presences, lambda p: mc_from(p).split("/")[0] == room and
        p["type"] == "unavailable" and 110 in mc_codes(p),
        "%s's unavailable self-presence from %s" % (c.boundjid, room))


def mc_fields(x):
    """{var: [values]} of a jabber:x:data element."""
    return {f.get("var"): [v.text or "" for v in f.findall("{%s}value" %
                                                          XDATA)]
            for f in x.findall("{%s}field" % XDATA)}


async def mc_configure(c, room, fields=None):
    """Owner configuration (XEP-0045 10.1/10.2). fields None: an instant
    room (empty submit). Otherwise gets the room's form, overrides `fields`
    ({var: value or [values]}) and submits the whole form. Returns
    (reply, error condition or None)."""
    if fields is None:
        return await send_iq(c, "set", "<query xmlns='%s'><x xmlns='%s' "
                             "type='submit'/></query>" % (MUC_OWNER, XDATA),
                             to=room)
    res, err = await send_iq(c, "get", "<query xmlns='%s'/>" % MUC_OWNER,
                             to=room)
    if err:
        return res, err
    form = res.xml.find("{%s}query/{%s}x" % (MUC_OWNER, XDATA))
    values = mc_fields(form) if form is not None else {}
    values = {k: v for k, v in values.items() if k}
    values["FORM_TYPE"] = [MUC_NS + "#roomconfig"]
    for k, v in fields.items():
        values[k] = v if isinstance(v, list) else [str(v)]
    from xml.sax.saxutils import escape, quoteattr
    body = "".join("<field var=%s>%s</field>" % (
        quoteattr(k), "".join("<value>%s</value>" % escape(v) for v in vs))
        for k, vs in values.items())
    return await send_iq(c, "set", "<query xmlns='%s'><x xmlns='%s' "
                         "type='submit'>%s</x></query>"
                         % (MUC_OWNER, XDATA, body), to=room)


async def mc_create(c, room, nick, fields=None):
    """Creates and configures a room (see mc_configure); returns the
    self-presence of the creation. Fails unless both steps succeed."""
    _, me = await mc_join(c, room, nick)
    if me["type"] == "error":
        raise Failure("creating %s: %s" % (room, mc_error(me)))
    res, err = await mc_configure(c, room, fields)
    if err:
        raise Failure("configuring %s: %s" % (room, err))
    return me


MUC_REQUEST = MUC_NS + "#request"


def mc_request_voice(c, room):
    """A visitor asks the room for voice (XEP-0045 7.13: a submitted
    muc#request form asking for the participant role)."""
    c.send_raw("<message to='%s'><x xmlns='%s' type='submit'><field "
               "var='FORM_TYPE'><value>%s</value></field><field "
               "var='muc#role'><value>participant</value></field></x>"
               "</message>" % (room, XDATA, MUC_REQUEST))


async def mc_affiliate(c, room, jid, affiliation):
    """muc#admin affiliation change; (reply, error condition or None)."""
    return await send_iq(c, "set", "<query xmlns='%s'><item jid='%s' "
                         "affiliation='%s'/></query>"
                         % (MUC_ADMIN, jid, affiliation), to=room)
# ---- end of MUC helpers ----------------------------------------------------


# ---- MUC moderation/administration helpers, continued (room configuration
# for test_muc_admin.py and test_muc_owner.py). ----------------------------
async def muc_room_form(c, rjid):
    """The owner's configuration form of rjid: (fields, condition, exchange
    text)."""
    reply, cond, ex = await iq_xml(c, "get", rjid,
                                   "<query xmlns='%s'/>" % NS_MUC_OWNER)
    x = None if cond else reply.xml.find("{%s}query/{%s}x"
                                         % (NS_MUC_OWNER, NS_XDATA))
    return form_fields(x), cond, ex


async def close_all(*clients):
    """Disconnects the clients at once and waits (at most 5 s in all) for
    their streams to end."""
    for c in clients:
        c.disconnect()
    await asyncio.gather(*[asyncio.wait_for(c.disconnected, 5)
                           for c in clients], return_exceptions=True)


async def muc_configure(c, rjid, values):
    """mc_configure with `values`, failing unless the owner's submission is
    accepted."""
    _, err = await mc_configure(c, rjid, values)
    if err:
        raise Failure("configuring %s: %s" % (rjid, err))
