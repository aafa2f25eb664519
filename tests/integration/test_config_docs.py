"""Every configuration key a program reads is documented with its default:
each key that `PROGRAM --help` prints (from the program's key tables) has a
row `| \\`key\\` | default | ... |` in its page, docs/xmppd.md for the router,
docs/muc.md for MUC, components/echo/README.md for xmppd-echo's own, and
docs/component-guide.md for the keys every component section has; and
--version prints the version. No XMPP."""
import os
import re
import subprocess
import sys

from xdtest import BUILD, ECHO, MUC, XMPPD, Failure, check

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
GUIDE = "docs/component-guide.md"


def help_keys(program):
    """{(section, key): default} as `program --help` prints them."""
    out = subprocess.run([program, "--help"], capture_output=True, text=True,
                         timeout=10)
    check(out.returncode == 0, "%s --help exits 0" % program)
    keys, section = {}, None
    for line in out.stdout.splitlines():
        m = re.match(r"^\[([^\]]+)\]", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^  (\w+) = (.*?)(  \(\d+ to \d+\))?$", line)
        if m and section is not None:
            keys[(section, m.group(1))] = m.group(2)
    check(keys, "%s --help prints keys" % program)
    return keys


def doc_rows(page):
    """{key: default cell} of the key tables of a docs page."""
    text = open(os.path.join(TOP, page)).read()
    return {m.group(1): m.group(2).strip() for m in
            re.finditer(r"^\| `(\w+)` \| ([^|]*)\|", text, re.M)}


def test():
    version = re.search(r"project\(xmppd VERSION ([0-9.]+)",
                        open(os.path.join(TOP, "CMakeLists.txt")).read()
                        ).group(1)
    guide = doc_rows(GUIDE)
    bad = []
    for program, pages in ((XMPPD, ["docs/xmppd.md"]),
                           (MUC, ["docs/muc.md", GUIDE]),
                           (ECHO, ["components/echo/README.md", GUIDE])):
        name = os.path.basename(program)
        out = subprocess.run([program, "--version"], capture_output=True,
                             text=True, timeout=10).stdout
        check(out == "%s %s (libxmppd %s)\n" % (name, version, version),
              "%s --version: %r" % (name, out))
        rows = {}
        for page in reversed(pages):  # the program's own page wins
            rows.update(doc_rows(page))
        for (section, key), default in sorted(help_keys(program).items()):
            if section == "global":
                continue  # the log's keys: docs/operator-guide.md
            if key not in rows:
                bad.append("%s: [%s] %s is in no table of %s" %
                           (name, section, key, " or ".join(pages)))
            elif default != "(unset)" and default not in rows[key]:
                bad.append("%s: [%s] %s: the default is %s, the docs say %s"
                           % (name, section, key, default, rows[key]))
    check(not bad, "every key is documented with its default" +
          "".join("\n  " + b for b in bad))
    check(guide, "the guide has the component keys")


def main():
    try:
        test()
    except Failure as e:
        print("FAIL:", e)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
