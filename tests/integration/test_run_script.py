"""`make run`'s script: a fresh state folder, the printed account logs in
and reaches the echo component, and Ctrl-C stops everything."""
import asyncio
import os
import re
import signal
import subprocess
import tempfile
import time

from xdtest import BUILD, TIMEOUT, Failure, check, login, \
    logout, main, next_message

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


async def test(rig):
    state = tempfile.mkdtemp(prefix="xdrun-")
    env = dict(os.environ, XMPPD_STATE=state,
               XMPPD_C2S_PORT=str(rig.c2s_port),
               XMPPD_C2S_TLS_PORT=str(rig.c2s_tls_port),
               XMPPD_COMPONENT_PORT=str(rig.component_port),
               BUILD=os.path.relpath(os.path.abspath(BUILD), TOP))
    p = subprocess.Popen([os.path.join(TOP, "contrib", "run.sh")], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True)
    try:
        out = ""
        end = time.time() + TIMEOUT
        while "Ctrl-C" not in out and time.time() < end:
            line = p.stdout.readline()
            if not line:
                break
            out += line
        print(out)
        jid = re.search(r"account:\s+(\S+)", out)
        pw = re.search(r"password:\s+(\S+)", out)
        check(jid is not None and pw is not None,
              "run.sh prints an account and a password")
        # The router logs the component once it is connected.
        log = os.path.join(state, "xmppd.log")
        end = time.time() + TIMEOUT
        while time.time() < end:
            if "component echo.localhost connected" in open(log).read():
                break
            await asyncio.sleep(0.1)
        c = await login(rig, jid.group(1), pw.group(1))
        c.send_message(mto="echo.localhost", mbody="ping?", mtype="chat")
        m = await next_message(c)
        check(m["body"] == "ping?", "the printed account reaches echo")
        await logout(c)
        p.send_signal(signal.SIGINT)
        rc = p.wait(10)
        check(rc == 0, "Ctrl-C stops run.sh cleanly")
        time.sleep(0.5)
        left = subprocess.run(["pgrep", "-f", state], capture_output=True,
                              text=True).stdout.split()
        check(left == [], "no xmppd or xmppd-echo left running")
    finally:
        if p.poll() is None:
            p.kill()
            subprocess.run(["pkill", "-f", state])
            raise Failure("run.sh did not stop")


main(test)
