"""xmppd-echo, unchanged, serves echo.localhost for Prosody (Debian's
prosody 0.12) as the router: the framework speaks standard XEP-0114."""
import os
import pwd
import shutil
import subprocess

import socket

from xdtest import ECHO, Failure, check, login, logout, main, \
    next_message, wait_for


def prosody_config(rig, data):
    return """
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

Component "echo.localhost"
    component_secret = "{secret}"
""".format(d=rig.dir, data=data, c2s=rig.c2s_port, comp=rig.component_port,
           cert=rig.cert, key=rig.key, secret=rig.secret)


async def test(rig):
    if shutil.which("prosody") is None:
        raise Failure("prosody is not installed (contrib/deps.sh test "
                      "installs it)")
    data = os.path.join(rig.dir, "prosody-data")
    os.makedirs(data)
    cfg = os.path.join(rig.dir, "prosody.cfg.lua")
    with open(cfg, "w") as f:
        f.write(prosody_config(rig, data))
    # Prosody will not run as root: run it (and prosodyctl) as its own
    # user, with its files readable by it.
    as_prosody = []
    if os.getuid() == 0:
        u = pwd.getpwnam("prosody")
        os.chmod(rig.dir, 0o755)
        for path in (data, rig.key, rig.cert, cfg):
            os.chown(path, u.pw_uid, u.pw_gid)
        as_prosody = ["setpriv", "--reuid=prosody", "--regid=prosody",
                      "--init-groups"]
    r = subprocess.run(as_prosody + ["prosodyctl", "--config", cfg,
                                     "register", "alice", "localhost",
                                     "pencil"],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "prosodyctl registers alice (%s)"
          % r.stderr.strip())
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
    echo = rig.start("xmppd-echo", [ECHO, "-c", rig.config])
    echo.wait_log("link up")
    check(True, "xmppd-echo completes the handshake with Prosody")
    c = await login(rig, "alice@localhost/p", "pencil")
    c.send_message(mto="echo.localhost", mbody="hello prosody", mtype="chat")
    m = await next_message(c)
    check(str(m["from"]) == "echo.localhost" and m["body"] == "hello prosody",
          "a Prosody client gets its message echoed by xmppd-echo")
    info = await c["xep_0030"].get_info(jid="echo.localhost", timeout=10)
    check(("component", "generic", None, "Echo")
          in info["disco_info"]["identities"],
          "xmppd-echo answers disco#info through Prosody")
    await logout(c)


main(test)
