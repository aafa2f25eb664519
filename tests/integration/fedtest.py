"""What the federation tests share: Debian's Prosody as the remote server,
with s2s on an address of its own under 127/8, and a raw stream to
xmppd's s2s port through STARTTLS."""
import os
import pwd
import socket
import ssl
import subprocess

from xdtest import check, read_until, wait_for


def start_remote_prosody(rig, ip, c2s_port, hosts, crt, key, vhosts,
                         secure_auth, ca=None, user=("bob", "bobpw")):
    """Prosody on ip (s2s on 5269, c2s on c2s_port) serving vhosts (the
    first one gets `user`), finding other domains through `hosts` (a list of
    (address, name), read by libunbound instead of /etc/hosts), with the
    certificate crt/key (and the trusted CA ca, if given). Runs as the
    prosody user; returns the Proc once its c2s port answers."""
    d = os.path.join(rig.dir, "prosody")
    os.makedirs(os.path.join(d, "data"), exist_ok=True)
    hosts_file = os.path.join(d, "hosts")
    with open(hosts_file, "w") as f:
        for addr, name in hosts:
            f.write("%s %s\n" % (addr, name))
    ssl_cfg = 'certificate = "%s"; key = "%s"' % (crt, key)
    if ca is not None:
        ssl_cfg += '; cafile = "%s"' % ca
    cfg = os.path.join(d, "prosody.cfg.lua")
    with open(cfg, "w") as f:
        f.write("""
data_path = "{d}/data"
pidfile = "{d}/prosody.pid"
daemonize = false
log = {{ debug = "{d}/debug.log"; info = "{d}/info.log" }}
interfaces = {{ "{ip}" }}
c2s_ports = {{ {c2s} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ 5269 }}
s2s_interfaces = {{ "{ip}" }}
component_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
admin_socket = "{d}/data/prosody.sock"
modules_enabled = {{ "disco"; "roster"; "saslauth"; "tls"; "ping"; "dialback"; "s2s" }}
modules_disabled = {{ "posix" }}
authentication = "internal_hashed"
storage = "internal"
s2s_secure_auth = {secure}
unbound = {{ hoststxt = "{hosts}" }}
ssl = {{ {ssl} }}
""".format(d=d, ip=ip, c2s=c2s_port, hosts=hosts_file, ssl=ssl_cfg,
           secure="true" if secure_auth else "false"))
        for v in vhosts:
            f.write('VirtualHost "%s"\n' % v)
    u = pwd.getpwnam("prosody")
    os.chmod(rig.dir, 0o755)
    for root, dirs, files in os.walk(d):
        os.chown(root, u.pw_uid, u.pw_gid)
        for n in files:
            os.chown(os.path.join(root, n), u.pw_uid, u.pw_gid)
    as_prosody = ["setpriv", "--reuid=prosody", "--regid=prosody",
                  "--init-groups"]
    r = subprocess.run(as_prosody + ["prosodyctl", "--config", cfg,
                                     "register", user[0], vhosts[0],
                                     user[1]],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "prosodyctl registers %s (%s)"
          % (user[0], r.stderr))
    p = rig.start("prosody", as_prosody + ["prosody", "--config", cfg, "-F"])
    p.peer = True

    def up():
        try:
            socket.create_connection((ip, c2s_port), 1).close()
            return True
        except OSError:
            return False
    wait_for(up, "Prosody's c2s port")
    return p


def s2s_starttls(ip, to, frm):
    """A stream from `frm` to xmppd's s2s port on ip, through STARTTLS;
    returns the TLS socket after the second stream header and what came
    with it, or (the plain socket, what came) when the first features
    already ended the stream (host-unknown)."""
    s = socket.create_connection((ip, 5269), 5)
    hdr = ("<?xml version='1.0'?><stream:stream xmlns='jabber:server' "
           "xmlns:stream='http://etherx.jabber.org/streams' "
           "xmlns:db='jabber:server:dialback' to='%s' from='%s' "
           "version='1.0'>" % (to, frm))
    s.sendall(hdr.encode())
    got = read_until(s, "</stream:features>")
    if "host-unknown" in got:
        return s, got
    s.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
    read_until(s, "<proceed")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s, server_hostname=to)
    t.sendall(hdr.encode())
    return t, read_until(t, "</stream:features>")
