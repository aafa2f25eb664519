"""The OpenMetrics endpoints of the router and of xmppd-muc: off unless a
port is set, on loopback by default; after a login, a failed login, a
message and a room join a scrape shows one session, the logins, the stanzas
routed, the room and its occupant, checked with a small parser of the
format (HELP and TYPE before their samples, counters' _total, # EOF);
Prometheus' text when text/plain is asked for; 404 for another path."""
import re
import socket
import subprocess
import urllib.error
import urllib.request

from xdtest import (MUC, MUC_DOMAIN, XMPPD, Failure, check, free_ports,
                    login, logout, main, muc_join, muc_login, next_message,
                    passed)

OM_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
                   r'(,|$)')


def parse(text, openmetrics=True):
    """{(sample name, frozenset of labels): value}; fails on anything the
    format does not allow."""
    lines = text.split("\n")
    check(lines[-1] == "", "the exposition ends with a newline")
    lines = lines[:-1]
    if openmetrics:
        check(lines and lines[-1] == "# EOF", "OpenMetrics ends with # EOF")
        check(lines.count("# EOF") == 1, "one # EOF")
        lines = lines[:-1]
    else:
        check("# EOF" not in lines, "no # EOF in Prometheus' text")
    families, current, samples = {}, None, {}
    for line in lines:
        check(line != "", "no empty line")
        if line.startswith("# "):
            parts = line.split(" ", 3)
            check(len(parts) >= 4 and parts[1] in ("HELP", "TYPE"),
                  "a HELP or TYPE line: %r" % line)
            name = parts[2]
            if parts[1] == "TYPE":
                check(parts[3] in ("counter", "gauge", "histogram"),
                      "known type: %r" % line)
                check(name not in families, "one TYPE per family: " + name)
                families[name] = parts[3]
            current = name
            continue
        m = SAMPLE.match(line)
        check(m is not None, "a sample line: %r" % line)
        name, labels, value = m.group(1), m.group(3), m.group(4)
        float(value.replace("+Inf", "inf"))  # a number
        typ = families.get(current)
        check(typ is not None, "a sample after its family's TYPE: %r" % line)
        if typ == "counter":
            want = current + "_total" if openmetrics else current
            check(name == want, "counter sample %s of family %s"
                  % (name, current))
        elif typ == "histogram":
            check(name in (current + "_bucket", current + "_sum",
                           current + "_count"), "histogram sample " + name)
        else:
            check(name == current, "gauge sample %s of %s" % (name, current))
        pairs = frozenset()
        if labels:
            found = LABEL.findall(labels)
            check("".join('%s="%s"%s' % f for f in found) == labels,
                  "labels parse: %r" % labels)
            pairs = frozenset((k, v) for k, v, _ in found)
        key = (name, pairs)
        check(key not in samples, "one sample per series: %r" % line)
        samples[key] = float(value.replace("+Inf", "inf"))
    return families, samples


def scrape(port, accept=None, path="/metrics"):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path))
    if accept is not None:
        req.add_header("Accept", accept)
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status, r.headers.get("Content-Type"), r.read().decode()


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def local_non_loopback():
    """An address of this host that is not loopback, or None."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.connect(("192.0.2.1", 9))  # no packet is sent
        addr = s.getsockname()[0]
    except OSError:
        return None
    finally:
        s.close()
    return None if addr.startswith("127.") else addr


async def test(rig):
    # Off unless a port is set, and loopback when it is.
    out = subprocess.run([XMPPD, "--help"], capture_output=True, text=True,
                         timeout=10).stdout
    check(re.search(r"^  metrics_port = 0\b", out, re.M) and
          re.search(r"^  metrics_address = 127\.0\.0\.1\b", out, re.M),
          "xmppd: metrics_port 0 (off) and metrics_address 127.0.0.1 by "
          "default")
    out = subprocess.run([MUC, "--help"], capture_output=True, text=True,
                         timeout=10).stdout
    check(re.search(r"^  metrics_port = 0\b", out, re.M) and
          re.search(r"^  metrics_address = 127\.0\.0\.1\b", out, re.M),
          "components: the same defaults")

    router_port, muc_port = free_ports(2)
    rig.xmppd_keys["metrics_port"] = router_port
    rig.write_config()
    rig.adduser("alice@localhost", "pencil")
    rig.start_xmppd()
    rig.start_echo()
    rig.start_muc(metrics_port=muc_port)

    status, ctype, text = scrape(router_port)
    check(status == 200 and ctype == OM_TYPE, "200, %s" % ctype)
    families, s = parse(text)
    check(value(s, "xmppd_sessions") == 0, "no session yet")
    check(families.get("xmppd_db_commit_seconds") == "histogram",
          "the commit latency is a histogram")

    c = await login(rig, "alice@localhost/m", "pencil")
    c.send_message(mto="echo.localhost", mbody="count me", mtype="chat")
    await next_message(c)
    try:
        await login(rig, "alice@localhost/bad", "wrong")
        raise Failure("a wrong password logged in")
    except Failure as e:
        check("could not log in" in str(e), "the wrong password fails")

    families, s = parse(scrape(router_port)[2])
    check(value(s, "xmppd_sessions") == 1, "one session: %s"
          % value(s, "xmppd_sessions"))
    check(value(s, "xmppd_accounts_online") == 1, "one account online")
    check(value(s, "xmppd_auth_successes_total") >= 1, "a login counted")
    check(value(s, "xmppd_auth_failures_total") >= 1,
          "a failed login counted")
    check(value(s, "xmppd_stanzas_routed_total", kind="message") >= 2,
          "the message and its echo routed: %s"
          % value(s, "xmppd_stanzas_routed_total", kind="message"))
    check(value(s, "xmppd_c2s_accepted_total") >= 2, "connections accepted")
    check(value(s, "xmppd_c2s_connections") >= 1, "a connection open")
    check(value(s, "xmppd_component_domains") == 2,
          "echo and muc connected: %s" % value(s, "xmppd_component_domains"))
    check(value(s, "xmppd_db_commit_seconds_count") >= 1,
          "the archive's commit is timed")
    check(value(s, "xmppd_db_commit_seconds_bucket", le="+Inf") ==
          value(s, "xmppd_db_commit_seconds_count"), "+Inf bucket = count")
    check(value(s, "process_resident_memory_bytes") > 1 << 20,
          "resident memory")

    # A message to a domain nobody serves is bounced, and counted.
    before = value(s, "xmppd_stanzas_bounced_total", kind="message")
    c.send_message(mto="nowhere.example", mbody="x", mtype="chat")
    err = await next_message(c)
    check(err["type"] == "error", "bounced")
    s = parse(scrape(router_port)[2])[1]
    check(value(s, "xmppd_stanzas_bounced_total", kind="message") ==
          before + 1, "the bounce counted")

    # Prometheus' text format when that is what the scraper asks for.
    status, ctype, text = scrape(router_port, accept="text/plain")
    check(ctype.startswith("text/plain; version=0.0.4"),
          "text/plain when asked: %s" % ctype)
    s = parse(text, openmetrics=False)[1]
    check(value(s, "xmppd_sessions") == 1, "the same values in it")

    # Only /metrics.
    for path in ("/", "/metrics/x", "/favicon.ico"):
        try:
            scrape(router_port, path=path)
            raise Failure("%s answered" % path)
        except urllib.error.HTTPError as e:
            check(e.code == 404, "%s: 404" % path)

    # Loopback only: not reachable on the host's other address.
    other = local_non_loopback()
    if other is not None:
        try:
            socket.create_connection((other, router_port), timeout=2).close()
            raise Failure("metrics reachable on %s" % other)
        except OSError:
            passed("not listening on %s" % other)

    # xmppd-muc: the link's counters and the rooms.
    m = await muc_login(rig, "alice@localhost/muc", "pencil")
    p = await muc_join(m, "tea@%s/Alice" % MUC_DOMAIN)
    check(p["type"] != "error", "joined a room")
    status, ctype, text = scrape(muc_port)
    check(status == 200 and ctype == OM_TYPE, "muc: 200 OpenMetrics")
    s = parse(text)[1]
    check(value(s, "xmppd_muc_rooms") == 1, "one room: %s"
          % value(s, "xmppd_muc_rooms"))
    check(value(s, "xmppd_muc_occupants") == 1, "one occupant")
    check(value(s, "xmppd_component_link_up") == 1, "the link is up")
    check(value(s, "xmppd_component_link_ups_total") == 1, "one handshake")
    check(value(s, "xmppd_component_stanzas_received_total") >= 1 and
          value(s, "xmppd_component_stanzas_sent_total") >= 1,
          "stanzas in and out counted")
    check(value(s, "xmppd_component_queued") == 0, "nothing queued")
    await logout(c, m)


if __name__ == "__main__":
    main(test)
