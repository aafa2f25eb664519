"""`make run`'s script: a fresh state folder, the printed account logs in
and reaches the echo component, and Ctrl-C as a terminal sends it (SIGINT
to the whole process group) stops the router and the components cleanly,
at once (a router with nothing to flush does not wait), with "stopped.".
A second run right after works; after `xmppdctl passwd` its banner does
not print the old password and says the account is from an earlier run;
an edited state/xmppd.ini is kept, and its header says so."""
import asyncio
import os
import re
import signal
import subprocess
import tempfile
import time

from xdtest import BUILD, TIMEOUT, XMPPDCTL, Failure, check, login, \
    logout, main, next_message

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def start(env):
    """run.sh in its own process group, as a shell starts a job; returns
    (process, everything it printed up to the end of the banner)."""
    p = subprocess.Popen([os.path.join(TOP, "contrib", "run.sh")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, start_new_session=True)
    out = ""
    end = time.time() + TIMEOUT
    while "Ctrl-C" not in out and time.time() < end:
        line = p.stdout.readline()
        if not line:
            break
        out += line
    print(out)
    return p, out


async def wait_components(state, since):
    """Waits until the router's log, past offset `since`, has both
    components connected."""
    log = os.path.join(state, "xmppd.log")
    end = time.time() + TIMEOUT
    while time.time() < end:
        text = open(log).read()[since:]
        if "component echo.localhost connected" in text and \
                "component conference.localhost connected" in text:
            return
        await asyncio.sleep(0.1)
    raise Failure("the components did not connect")


def ctrl_c(p, state, what):
    """SIGINT to the script's whole process group, as a terminal sends it;
    checks that it stops cleanly and quickly and leaves nothing behind."""
    t0 = time.time()
    os.killpg(p.pid, signal.SIGINT)
    try:
        rc = p.wait(10)
    except subprocess.TimeoutExpired:
        raise Failure("%s: run.sh did not stop on Ctrl-C" % what)
    took = time.time() - t0
    rest = p.stdout.read()
    print(rest)
    check(rc == 0 and "stopped." in rest,
          "%s: Ctrl-C (SIGINT to the process group) stops run.sh cleanly "
          "(status %s, says 'stopped.')" % (what, rc))
    check(took < 1.5, "%s: with no connection open, everything stops at "
          "once (%.2f s)" % (what, took))
    left = subprocess.run(["pgrep", "-f", state], capture_output=True,
                          text=True).stdout.split()
    check(left == [], "%s: no xmppd, xmppd-echo or xmppd-muc left running"
          % what)
    log = open(os.path.join(state, "xmppd.log")).read()
    check(log.rstrip().splitlines()[-1].find("stopped:") >= 0,
          "%s: the router ran its shutdown to the end ('stopped:' last in "
          "its log)" % what)


async def test(rig):
    # The router alone, no connection open: SIGTERM stops it at once.
    rig.start_xmppd()
    t0 = time.time()
    rc = rig.xmppd.stop()
    took = time.time() - t0
    check(rc == 0 and took < 1.0, "a router with no stream open stops at "
          "once on SIGTERM (status %s, %.2f s)" % (rc, took))

    state = tempfile.mkdtemp(prefix="xdrun-")
    env = dict(os.environ, XMPPD_STATE=state,
               XMPPD_C2S_PORT=str(rig.c2s_port),
               XMPPD_C2S_TLS_PORT=str(rig.c2s_tls_port),
               XMPPD_COMPONENT_PORT=str(rig.component_port),
               BUILD=os.path.relpath(os.path.abspath(BUILD), TOP))
    cfg = os.path.join(state, "xmppd.ini")
    procs = []
    try:
        p, out = start(env)
        procs.append(p)
        jid = re.search(r"account:\s+(\S+)", out)
        pw = re.search(r"password:\s+(\S+)", out)
        check(jid is not None and pw is not None,
              "run.sh prints an account and a password")
        check("earlier run" not in out, "a new account is not said to be "
              "from an earlier run")
        check("could not check" not in out, "the banner checked the "
              "password with a login before printing it")
        await wait_components(state, 0)
        c = await login(rig, jid.group(1), pw.group(1))
        c.send_message(mto="echo.localhost", mbody="ping?", mtype="chat")
        m = await next_message(c)
        check(m["body"] == "ping?", "the printed account reaches echo")
        await logout(c)
        await asyncio.sleep(0.3)
        ctrl_c(p, state, "first run")

        # The operator edits the configuration and changes the password.
        with open(cfg) as f:
            ini = f.read()
        with open(cfg, "w") as f:
            f.write(ini.replace("log_level = info",
                                "log_level = info\n; my own edit"))
        new_pw = "a-new-password-42"
        r = subprocess.run([XMPPDCTL, "-c", cfg, "passwd", jid.group(1),
                            new_pw], input=new_pw + "\n",
                           capture_output=True, text=True, timeout=TIMEOUT)
        check(r.returncode == 0, "xmppdctl passwd (%s)" % r.stderr.strip())

        size = os.path.getsize(os.path.join(state, "xmppd.log"))
        p, out = start(env)
        procs.append(p)
        check("Ctrl-C" in out, "a second run right after the first starts")
        check(pw.group(1) not in out,
              "after xmppdctl passwd, the banner does not print the old "
              "password")
        check("earlier run" in out,
              "the banner says the account is from an earlier run")
        ini = open(cfg).read()
        check("; my own edit" in ini, "state/xmppd.ini is kept as edited")
        check("kept" in ini.splitlines()[0] + ini.splitlines()[1],
              "its header says it is kept (%s)" % ini.splitlines()[0])
        await wait_components(state, size)
        c = await login(rig, jid.group(1), new_pw)
        await logout(c)
        await asyncio.sleep(0.3)
        ctrl_c(p, state, "second run")
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                raise Failure("run.sh did not stop")


main(test)
