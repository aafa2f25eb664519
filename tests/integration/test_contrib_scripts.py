"""The contrib scripts around `make run` and `make test` (issue 13), run
against stub commands on PATH so that nothing is installed, built or
killed for real:
- contrib/deps.sh never kills a Prosody it did not start (no pkill -f of
  every /usr/bin/prosody on the host): only one that appeared during its
  own install; `build` does not install clang (only the sanitizer build,
  in `test`, needs it);
- contrib/test.sh counts a failed configure or build as a failure in its
  closing line;
- `make run` builds only the programs it runs, not the tests and
  benchmarks."""
import os
import re
import stat
import subprocess
import tempfile

from xdtest import check, main

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def stub(folder, name, body):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + body + "\n")
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)


def deps_stubs():
    """A PATH folder where deps.sh finds every package missing, runs as a
    non-root user through a recording `sudo`, and sees one Prosody before
    the install and a second one after it."""
    d = tempfile.mkdtemp(prefix="xdstub-")
    calls = os.path.join(d, "calls")
    open(calls, "w").close()
    rec = 'echo "$(basename "$0") $*" >>%s' % calls
    stub(d, "dpkg-query", "exit 1")
    stub(d, "id", 'echo 1000')
    stub(d, "apt-get", rec)
    stub(d, "tee", rec + "\ncat >/dev/null")
    stub(d, "chmod", rec)
    stub(d, "rm", rec)
    stub(d, "pkill", rec)
    stub(d, "prosodyctl", "exit 0")
    # pgrep: "111" before the install, "111 222" after it.
    stub(d, "pgrep", rec + '\nn=$(grep -c "^pgrep" %s)\n'
         'if [ "$n" -le 1 ]; then echo 111; else echo 111; echo 222; fi'
         % calls)
    # sudo records kill and pkill (never running them) and runs the rest,
    # which are stubs too.
    stub(d, "sudo", 'case "$1" in kill|pkill) echo "sudo $*" >>%s;'
         ' exit 0;; esac\nexec "$@"' % calls)
    return d, calls


def run_deps(what):
    d, calls = deps_stubs()
    env = dict(os.environ, PATH=d + ":" + os.environ["PATH"])
    r = subprocess.run(["sh", os.path.join(TOP, "contrib", "deps.sh"), what],
                       env=env, capture_output=True, text=True, timeout=60)
    return r, open(calls).read()


def run_test_sh(fail):
    """contrib/test.sh with a cmake stub failing at `fail` (configure or
    build) of the first build folder only, and a ctest stub reporting 3
    passing tests for each of the others."""
    d = tempfile.mkdtemp(prefix="xdstub-")
    stub(d, "cmake", 'case "$1 $*" in\n'
         '"-S "*/b1*) [ "%s" = configure ] && exit 1;;\n'
         '"--build "*/b1*) [ "%s" = build ] && exit 1;;\nesac\nexit 0'
         % (fail, fail))
    stub(d, "ctest", 'echo "100% tests passed, 0 tests failed out of 3"')
    env = dict(os.environ, PATH=d + ":" + os.environ["PATH"],
               BUILD=os.path.join(d, "b1"), ASAN_BUILD=os.path.join(d, "b2"),
               ZONE_BUILD=os.path.join(d, "b3"))
    r = subprocess.run(["sh", os.path.join(TOP, "contrib", "test.sh")],
                       env=env, capture_output=True, text=True, timeout=120)
    lines = [ln for ln in r.stdout.splitlines() if ln.strip()]
    return r.returncode, lines[-1] if lines else ""


async def test(rig):
    r, calls = run_deps("test")
    print(calls)
    check(r.returncode == 0, "deps.sh test runs against the stubs (%s)"
          % r.stderr.strip())
    check("apt-get install" in calls and "prosody" in calls,
          "deps.sh installs what is missing, Prosody among it")
    check("pkill" not in calls,
          "deps.sh never pkills every Prosody on the host")
    check("sudo kill 222" in calls and "111" not in calls.replace(
        "pgrep", "").split("sudo kill")[-1],
          "only the Prosody the install started (222) is stopped, not the "
          "one running before (111)")
    check(" clang " in calls + " ", "deps.sh test installs clang (the "
          "sanitizer build)")

    r, calls = run_deps("build")
    install = [ln for ln in calls.splitlines() if "apt-get" in ln and
               " install " in ln]
    check(r.returncode == 0 and install and
          "clang" not in install[0].split(),
          "deps.sh build does not install clang (%s)" % install)

    for fail in ("configure", "build"):
        rc, last = run_test_sh(fail)
        m = re.match(r"^(\d+) passed, (\d+) failed$", last)
        check(rc != 0 and m is not None and int(m.group(1)) >= 3 and
              int(m.group(2)) == 1,
              "test.sh with a failed %s: exits non-zero and the closing "
              "line counts it as a failure (%r)" % (fail, last))

    r = subprocess.run(["make", "-n", "-C", TOP, "run", "BUILD=build-x"],
                       capture_output=True, text=True, timeout=30)
    builds = [ln for ln in r.stdout.splitlines()
              if "cmake --build" in ln]
    check(builds and all("--target" in ln for ln in builds) and
          all(p in builds[-1].split() for p in
              ("xmppd", "xmppdctl", "xmppd-echo", "xmppd-muc")),
          "make run builds only xmppd, xmppdctl, xmppd-echo and xmppd-muc "
          "(%s)" % builds)


main(test)
