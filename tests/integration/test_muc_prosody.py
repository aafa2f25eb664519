"""xmppd-muc, unchanged, serves conference.localhost for Prosody (Debian's
prosody) as the router over XEP-0114: two Prosody clients create, enter
and talk in a room."""
import asyncio
import os
import pwd
import shutil
import socket
import subprocess

from xdtest import MUC, MUC_DOMAIN, Failure, check, main, mc_codes, \
    mc_configure, mc_drain, mc_from, mc_join, mc_login, mc_next, wait_for

ROOM = "lounge@" + MUC_DOMAIN


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

Component "conference.localhost"
    component_secret = "{secret}"
""".format(data=data, c2s=rig.c2s_port, comp=rig.component_port,
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
    as_prosody = []
    if os.getuid() == 0:
        u = pwd.getpwnam("prosody")
        os.chmod(rig.dir, 0o755)
        for path in (data, rig.key, rig.cert, cfg):
            os.chown(path, u.pw_uid, u.pw_gid)
        as_prosody = ["setpriv", "--reuid=prosody", "--regid=prosody",
                      "--init-groups"]
    for user in ("alice", "bob"):
        r = subprocess.run(as_prosody + ["prosodyctl", "--config", cfg,
                                         "register", user, "localhost",
                                         "pencil"],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "prosodyctl registers %s (%s)"
              % (user, r.stderr.strip()))
    prosody = rig.start("prosody", as_prosody + ["prosody", "--config", cfg,
                                                 "-F"])
    prosody.peer = True

    def listening():
        try:
            socket.create_connection(("127.0.0.1", rig.c2s_port), 1).close()
            return True
        except OSError:
            return False
    wait_for(listening, "prosody's c2s port")
    muc = rig.start("xmppd-muc", [MUC, "-c", rig.config])
    muc.wait_log("link up")
    check(True, "xmppd-muc completes the handshake with Prosody")

    a = await mc_login(rig, "alice@localhost/a", "pencil")
    b = await mc_login(rig, "bob@localhost/b", "pencil")
    await asyncio.sleep(0.3)
    mc_drain(a, b)
    _, me = await mc_join(a, ROOM, "Alice")
    check(me["type"] != "error" and {110, 201} <= mc_codes(me),
          "alice creates a room through Prosody (110, 201)")
    _, err = await mc_configure(a, ROOM)
    check(err is None, "and makes it an instant room (%s)" % err)
    others, me = await mc_join(b, ROOM, "Bob")
    check(me["type"] != "error" and
          [mc_from(p) for p in others] == [ROOM + "/Alice"],
          "bob enters and sees alice")
    await mc_next(a.presences, lambda p: mc_from(p) == ROOM + "/Bob",
                  "alice sees bob enter")
    a.send_raw("<message to='%s' type='groupchat'><body>hi bob</body>"
               "</message>" % ROOM)
    m = await mc_next(b.messages, lambda m: m["body"] == "hi bob",
                      "alice's message at bob")
    check(mc_from(m) == ROOM + "/Alice", "bob gets alice's message")
    b.send_raw("<message to='%s' type='groupchat'><body>hi alice</body>"
               "</message>" % ROOM)
    m = await mc_next(a.messages, lambda m: m["body"] == "hi alice",
                      "bob's message at alice")
    check(mc_from(m) == ROOM + "/Bob", "alice gets bob's message")
    a.disconnect()
    b.disconnect()
    await asyncio.sleep(0.3)


main(test)
