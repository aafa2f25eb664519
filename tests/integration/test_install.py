"""The installed suite, as the Debian package lays it out and as systemd
would run it.

Builds the package (cpack -G DEB from the build tree), unpacks it into a
scratch root, creates the service user and the state folder there with the
package's own sysusers.d and tmpfiles.d snippets (systemd-sysusers --root,
systemd-tmpfiles --root), and checks every unit with `systemd-analyze
verify --root` (PID 1 is not systemd here, so nothing can be started with
systemctl; verify runs offline against the root, which is given the host's
own units and /bin/kill for the dependencies it resolves).

Then it runs each unit's ExecStart as systemd would: chrooted into the
scratch root (the host's libraries bound read-only into it, in a mount
namespace of the test's own), the root read-only but for ReadWritePaths,
a private /tmp, as the unit's User and Group with no capability and
no_new_privs, in its WorkingDirectory and UMask, with the unit's
Environment and a NOTIFY_SOCKET of the test's. It waits for READY=1 (what
`systemctl start` waits for with Type=notify), logs in with a client and
gets an answer from xmppd-echo, runs the installed xmppdctl as root with its
default configuration (no file it writes may be root's), reloads with each
unit's ExecReload (RELOADING=1, then READY=1), and stops each process with
SIGTERM, which must end it (STOPPING=1, status 0) within TimeoutStopSec.
"""
import asyncio
import configparser
import ctypes
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

from xdtest import (BUILD, Failure, Proc, RawClient, Rig, check, main,
                    wait_for)

SRC = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
UNITS = ("xmppd", "xmppd-muc", "xmppd-echo")
STATE = "/var/lib/xmppd"
# Host folders the programs need inside the root, bound read-only.
HOST_BINDS = ("usr/lib/x86_64-linux-gnu", "usr/lib64", "usr/lib/ssl",
              "etc/ssl", "dev")
CLONE_NEWNS = 0x00020000
PR_SET_NO_NEW_PRIVS = 38
libc = ctypes.CDLL(None, use_errno=True)


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)
    if r.returncode != 0:
        raise Failure("%s: status %d: %s%s" % (" ".join(argv), r.returncode,
                                               r.stdout, r.stderr))
    return r


def read_unit(path):
    """The unit's [Service] settings: {key: [values]} (keys repeat)."""
    cp = configparser.RawConfigParser(strict=False, delimiters=("=",),
                                      comment_prefixes=("#", ";"),
                                      interpolation=None, dict_type=dict)
    cp.optionxform = str
    out = {}
    section = None
    for line in open(path):
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, _, v = line.partition("=")
        out.setdefault((section, k), []).append(v)
    return out


def one(unit, key, default=None):
    v = unit.get(("Service", key))
    return v[-1] if v else default


def build_package(work):
    """cpack in the build tree; returns the .deb's path."""
    out = os.path.join(work, "cpack")
    run(["cpack", "-G", "DEB", "-B", out,
         "--config", os.path.join(BUILD, "CPackConfig.cmake")])
    debs = glob.glob(os.path.join(out, "*.deb"))
    check(len(debs) == 1, "cpack built one Debian package")
    return debs[0]


def check_package(deb, root):
    run(["dpkg-deb", "-x", deb, root])
    for path in ("usr/sbin/xmppd", "usr/sbin/xmppd-muc", "usr/sbin/xmppd-echo",
                 "usr/bin/xmppdctl", "etc/xmppd/xmppd.ini",
                 "usr/lib/sysusers.d/xmppd.conf",
                 "usr/lib/tmpfiles.d/xmppd.conf",
                 "usr/share/man/man8/xmppd.8", "usr/share/man/man8/xmppdctl.8",
                 "usr/share/man/man8/xmppd-muc.8",
                 "usr/share/man/man8/xmppd-echo.8",
                 "usr/share/man/man5/xmppd.ini.5"):
        check(os.path.exists(os.path.join(root, path)), "package has /" + path)
    for u in UNITS:
        check(os.path.exists(os.path.join(root, "usr/lib/systemd/system",
                                          u + ".service")),
              "package has a unit for " + u)
    ctl = os.path.join(root, "ctl")
    run(["dpkg-deb", "-e", deb, ctl])
    check(open(os.path.join(ctl, "conffiles")).read().split()
          == ["/etc/xmppd/xmppd.ini"], "the configuration is a conffile")
    for script in ("postinst", "prerm", "postrm"):
        run(["sh", "-n", os.path.join(ctl, script)])
    shutil.rmtree(ctl)
    for page in glob.glob(os.path.join(root, "usr/share/man/man*/*")):
        r = run(["man", "--warnings", "-l", page], env=dict(os.environ,
                                                           MANPAGER="cat"))
        check(r.stderr == "", "man %s renders without warnings"
              % os.path.basename(page))


def make_user(root):
    """The package's sysusers.d and tmpfiles.d snippets, in the root."""
    run(["systemd-sysusers", "--root=" + root,
         root + "/usr/lib/sysusers.d/xmppd.conf"])
    run(["systemd-tmpfiles", "--root=" + root, "--create",
         root + "/usr/lib/tmpfiles.d/xmppd.conf"])
    entry = [line.split(":") for line in open(os.path.join(root, "etc/passwd"))
             if line.startswith("xmppd:")]
    check(len(entry) == 1, "systemd-sysusers made the xmppd user")
    uid, gid = int(entry[0][2]), int(entry[0][3])
    check(uid != 0 and entry[0][6].strip().endswith("nologin"),
          "the xmppd user is not root and has no shell")
    st = os.stat(root + STATE)
    check((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, gid, 0o750),
          "systemd-tmpfiles made %s xmppd's, mode 0750" % STATE)
    return uid, gid


def verify_units(root):
    """systemd-analyze verify, offline: the root gets the host's units
    (targets the units name) and /bin/kill (ExecReload)."""
    system = os.path.join(root, "usr/lib/systemd/system")
    run(["cp", "-an", "/usr/lib/systemd/system/.", system])
    os.makedirs(os.path.join(root, "usr/bin"), exist_ok=True)
    shutil.copy("/usr/bin/kill", os.path.join(root, "usr/bin/kill"))
    for link, to in (("bin", "usr/bin"), ("lib", "usr/lib"),
                     ("lib64", "usr/lib64"), ("sbin", "usr/sbin")):
        if not os.path.lexists(os.path.join(root, link)):
            os.symlink(to, os.path.join(root, link))
    for u in UNITS:
        path = "/usr/lib/systemd/system/%s.service" % u
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            "--root=" + root, path],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and r.stderr.strip() == "",
              "systemd-analyze verify %s.service: %s" % (u, r.stderr.strip()
                                                         or "clean"))
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                            "--root=" + root, path],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout)
        check(m is not None and float(m.group(1)) <= 2.0,
              "systemd-analyze security %s.service: exposure %s (at most 2.0)"
              % (u, m.group(1) if m else r.stdout[-300:]))


def configure(root, rig, gid):
    """The installed example configuration, with the rig's ports and
    certificate and the two components enabled."""
    path = os.path.join(root, "etc/xmppd/xmppd.ini")
    text = open(path).read()
    subst = [
        ("c2s_address = 0.0.0.0", "c2s_address = 127.0.0.1"),
        ("c2s_port = 5222", "c2s_port = %d" % rig.c2s_port),
        ("c2s_tls_port = 5223", "c2s_tls_port = %d" % rig.c2s_tls_port),
        ("component_port = 5347", "component_port = %d" % rig.component_port),
        ("PUT-A-SECRET-HERE", "s3cret-muc"),
        ("PUT-ANOTHER-SECRET-HERE", "s3cret-echo"),
    ]
    for old, new in subst:
        check(old in text, "the example configuration has %r" % old)
        text = text.replace(old, new)
    text = re.sub(r"(?m)^;(\[|secret|domain|db_path)", r"\1", text)
    text = re.sub(r"(?m)^(\[(muc|echo)\])$",
                  r"\1\nrouter_port = %d\nreconnect_min_ms = 100"
                  % rig.component_port, text)
    with open(path, "w") as f:
        f.write(text)
    tls = os.path.join(root, "etc/xmppd/tls")
    os.makedirs(tls)
    shutil.copy(rig.cert, os.path.join(tls, "fullchain.pem"))
    shutil.copy(rig.key, os.path.join(tls, "privkey.pem"))
    for p in (path, os.path.join(tls, "privkey.pem")):
        os.chown(p, 0, gid)  # as the package's postinst leaves the config
        os.chmod(p, 0o640)


def enter_namespace(root):
    """The test's own mount namespace: the host's libraries in the root,
    the root read-only but for the state folder, /proc, and private /tmp
    and /run. Gone with the test's processes."""
    if libc.unshare(CLONE_NEWNS) != 0:
        raise Failure("unshare(CLONE_NEWNS): errno %d" % ctypes.get_errno())
    run(["mount", "--make-rprivate", "/"])
    run(["mount", "--bind", root, root])
    for d in HOST_BINDS:
        if os.path.isdir("/" + d):
            os.makedirs(os.path.join(root, d), exist_ok=True)
            run(["mount", "--rbind", "/" + d, os.path.join(root, d)])
            run(["mount", "-o", "remount,bind,ro", os.path.join(root, d)])
    os.makedirs(os.path.join(root, "proc"), exist_ok=True)
    run(["mount", "-t", "proc", "-o", "nosuid,nodev,noexec", "proc",
         os.path.join(root, "proc")])  # as systemd gives it (and ASan needs)
    for d in ("tmp", "run"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
        run(["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs",
             os.path.join(root, d)])
    run(["mount", "--bind", root + STATE, root + STATE])  # ReadWritePaths
    run(["mount", "-o", "remount,bind,ro", root])         # ProtectSystem=strict


class Notify:
    """The NOTIFY_SOCKET systemd would give one service."""

    def __init__(self, root, name):
        self.path = "/run/notify-" + name
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.s.bind(root + self.path)
        os.chmod(root + self.path, 0o666)

    def expect(self, state, timeout):
        """Waits for a datagram with `state` (e.g. READY=1); returns it."""
        end = time.time() + timeout
        while time.time() < end:
            self.s.settimeout(max(0.01, end - time.time()))
            try:
                msg = self.s.recv(4096).decode()
            except socket.timeout:
                break
            if state in msg.split("\n"):
                return msg
        raise Failure("no %s on NOTIFY_SOCKET within %ss" % (state, timeout))


def seconds(v, default):
    m = re.fullmatch(r"(\d+)s?", (v or "").strip())
    return int(m.group(1)) if m else default


def start_unit(root, rig, name, uid, gid):
    """Runs the unit's ExecStart as systemd would; returns (Proc, unit,
    Notify) once READY=1 came."""
    unit = read_unit(os.path.join(root, "usr/lib/systemd/system",
                                  name + ".service"))
    check(one(unit, "Type") == "notify", name + " is Type=notify")
    check(one(unit, "User") == "xmppd" and one(unit, "Group") == "xmppd",
          name + " runs as xmppd:xmppd")
    check(one(unit, "ReadWritePaths") == STATE, name + " may write only " + STATE)
    check(one(unit, "CapabilityBoundingSet") == "", name + " has no capability")
    for key, value in (("ProtectSystem", "strict"), ("PrivateTmp", "yes"),
                       ("NoNewPrivileges", "yes")):
        check(one(unit, key) == value, "%s has %s=%s" % (name, key, value))
    argv = shlex.split(one(unit, "ExecStart"))
    workdir = one(unit, "WorkingDirectory", "/")
    umask = int(one(unit, "UMask", "0022"), 8)
    notify = Notify(root, name)
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin",
           "NOTIFY_SOCKET": notify.path, "LANG": "C.UTF-8"}
    # Not from systemd: the sanitizer build's settings, when ctest sets them.
    env.update({k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")})
    for line in unit.get(("Service", "Environment"), []):
        for kv in shlex.split(line):
            k, _, v = kv.partition("=")
            env[k] = v

    def as_systemd():
        os.chroot(root)
        os.chdir(workdir)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        os.umask(umask)
        libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)

    p = Proc.__new__(Proc)
    p.name, p.peer = name, False
    p.log = os.path.join(rig.dir, name + ".log")
    p.out = open(p.log, "ab")
    p.p = subprocess.Popen(argv, stdout=p.out, stderr=p.out, env=env,
                           preexec_fn=as_systemd)
    rig.procs.append(p)
    t0 = time.time()
    notify.expect("READY=1", seconds(one(unit, "TimeoutStartSec"), 90))
    print("ok: %s said READY=1 after %.2fs" % (name, time.time() - t0))
    return p, unit, notify


def ctl(root, *args):
    """The installed xmppdctl, as root, with its default configuration."""
    return subprocess.run(["/usr/bin/xmppdctl"] + list(args),
                          preexec_fn=lambda: (os.chroot(root), os.chdir("/")),
                          capture_output=True, text=True, timeout=30,
                          env=dict({"PATH": "/usr/bin"},
                                   **{k: v for k, v in os.environ.items()
                                      if k.endswith("SAN_OPTIONS")}))


def reload_unit(root, name, p, unit, notify):
    """The unit's ExecReload, $MAINPID replaced as systemd does."""
    cmd = one(unit, "ExecReload").replace("$MAINPID", str(p.p.pid))
    argv = shlex.split(cmd)
    run([os.path.join(root, argv[0].lstrip("/"))] + argv[1:])
    notify.expect("RELOADING=1", 10)
    notify.expect("READY=1", 10)
    check(p.p.poll() is None, "%s reloaded (RELOADING=1, READY=1), still runs"
          % name)


def stop_unit(name, p, unit, notify):
    """SIGTERM, then SIGKILL after TimeoutStopSec (a failure here)."""
    timeout = seconds(one(unit, "TimeoutStopSec"), 90)
    t0 = time.time()
    p.p.send_signal(signal.SIGTERM)
    notify.expect("STOPPING=1", timeout)
    try:
        rc = p.p.wait(timeout)
    except subprocess.TimeoutExpired:
        p.p.kill()
        p.p.wait()
        raise Failure("%s did not stop within TimeoutStopSec=%d" % (name,
                                                                   timeout))
    p.out.close()
    check(rc == 0, "%s stopped on SIGTERM (STOPPING=1) in %.2fs, status 0"
          % (name, time.time() - t0))


async def test(rig):
    loop = asyncio.get_event_loop()
    work = os.environ["XD_INSTALL_WORK"]
    root = os.path.join(work, "root")
    os.makedirs(root)
    deb = build_package(work)
    check_package(deb, root)
    uid, gid = make_user(root)
    verify_units(root)
    configure(root, rig, gid)
    enter_namespace(root)

    r = subprocess.run(["touch", root + "/etc/xmppd/x"], capture_output=True)
    check(r.returncode != 0, "the root is read-only (ProtectSystem=strict)")

    # Before the router runs, so that xmppdctl creates the database: as
    # root, it must create it as the state folder's owner.
    r = ctl(root, "adduser", "alice@localhost", "wonderland-42")
    check(r.returncode == 0, "xmppdctl as root, default configuration: "
          "adduser (%s)" % (r.stdout + r.stderr).strip())
    r = ctl(root, "listusers", "localhost")
    check(r.returncode == 0 and "alice" in r.stdout, "xmppdctl listusers")
    owners = {p: os.stat(p).st_uid for p in glob.glob(root + STATE + "/*")}
    check(owners and all(u == uid for u in owners.values()),
          "every file in %s is xmppd's, none root's: %s"
          % (STATE, sorted(os.path.basename(p) for p in owners)))

    running = {}
    running["xmppd"] = start_unit(root, rig, "xmppd", uid, gid)
    # READY=1 means serving: the client port answers at once.
    socket.create_connection(("127.0.0.1", rig.c2s_tls_port), 2).close()
    check(True, "the router listens when it says READY=1")
    for name in ("xmppd-muc", "xmppd-echo"):
        running[name] = start_unit(root, rig, name, uid, gid)

    def chat():
        c = RawClient(rig)
        c.login("alice", "wonderland-42")
        c.bind("install")
        c.send("<message to='echo.localhost' type='chat' id='m1'>"
               "<body>installed</body></message>")
        got = c.expect("</message>")
        c.drop()
        return got

    got = await loop.run_in_executor(None, chat)
    check("installed" in got, "a client logs in and xmppd-echo answers")

    for name, (p, unit, notify) in running.items():
        reload_unit(root, name, p, unit, notify)
    wait_for(lambda: "reload" in running["xmppd"][0].text(),
             "the router's reload log line")
    got = await loop.run_in_executor(None, chat)
    check("installed" in got, "the suite serves after the reload")

    for name in ("xmppd-echo", "xmppd-muc", "xmppd"):
        stop_unit(name, *running[name])
    rig.procs = []
    owners = {p: os.stat(p).st_uid for p in glob.glob(root + STATE + "/*")}
    check(all(u == uid for u in owners.values()),
          "after the run, every file in %s is still xmppd's" % STATE)


def outer():
    """Runs the test in a process of its own, whose mount namespace (the
    bind mounts into the scratch root) ends with it; then removes the
    scratch root, which this process sees without those mounts."""
    if os.geteuid() != 0:
        print("SKIP: needs root (chroot, mount namespace, the service user)")
        return 0
    for tool in ("cpack", "dpkg-deb", "systemd-analyze", "systemd-sysusers",
                 "systemd-tmpfiles", "man"):
        if shutil.which(tool) is None:
            print("FAIL: %s is missing (contrib/deps.sh test)" % tool)
            return 1
    work = tempfile.mkdtemp(prefix="xdinstall-")
    try:
        return subprocess.run([sys.executable] + sys.argv,
                              env=dict(os.environ, XD_INSTALL_WORK=work)
                              ).returncode
    finally:
        subprocess.run(["umount", "-R", os.path.join(work, "root")],
                       capture_output=True)  # none in this namespace
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if "XD_INSTALL_WORK" not in os.environ:
        sys.exit(outer())
    main(test)
