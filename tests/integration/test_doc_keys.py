"""Every configuration key is documented, and every documented key exists.

Reads the key tables of the sources (every `xd_config_key NAME[] = {...}`
under xmppd/, framework/, components/ and gateways/, plus any [global] key
read with xd_config_get) and the key tables of docs/, and fails when a key
is in one and not the other, or when a table has no documentation section
assigned in TABLES below (a new component's table must be added here). Then
checks that the man pages (contrib/man/gen.py) are current.

No binaries needed: it reads the tree only.
"""
import glob
import os
import re
import subprocess
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "contrib", "man"))
import gen  # noqa: E402  (the man pages' Markdown table reader)

# (source file, table) -> (docs file, heading of its key table). Several
# tables may share one docs table (their keys are then compared together).
TABLES = {
    ("framework/src/config.c", "log_keys"):
        ("docs/xmppd.md", "### `[global]`"),
    ("xmppd/router_conf.c", "xmppd_conf_keys"):
        ("docs/xmppd.md", "### `[xmppd]`"),
    ("xmppd/component_link.c", "comp_keys"):
        ("docs/xmppd.md", "### `[component DOMAIN]`"),
    ("framework/src/component.c", "xd_component_keys"):
        ("docs/component-guide.md", "## Configuration keys of a component section"),
    ("components/muc/service.c", "muc_keys"):
        ("docs/muc.md", "## Configuration keys"),
    ("components/echo/main.c", "echo_keys"):
        ("components/echo/README.md", "## Keys of the `[echo]` section"),
    ("components/examples/dice/main.c", "dice_keys"):
        ("components/examples/dice/README.md", "## Keys of the `[dice]` section"),
}
# Keys read straight from [global] with xd_config_get, outside a table.
GLOBAL = ("docs/xmppd.md", "### `[global]`")

TABLE_RE = re.compile(
    r"xd_config_key\s+(\w+)\s*\[\s*\]\s*=\s*\{(.*?)XD_CFG_END", re.S)
# XD_CFG_UINT("name", ...) and XD_CFG_FIELD_UINT(type, name, ...).
KEY_RE = re.compile(r"XD_CFG_(?:STRING|UINT|BOOL)\(\s*\"([^\"]+)\"|"
                    r"XD_CFG_FIELD_(?:STRING|UINT|BOOL)\(\s*[^,]+,\s*(\w+)")
GLOBAL_RE = re.compile(r"xd_config_get\([^,]+,\s*\"global\",\s*\"([^\"]+)\"\)")
DIRS = ("xmppd", "framework", "components", "gateways")


def source_tables():
    """{(file, table): [keys]} and the [global] keys, from the sources."""
    tables, global_keys = {}, set()
    for d in DIRS:
        for path in glob.glob(os.path.join(TOP, d, "**", "*.c"), recursive=True):
            rel = os.path.relpath(path, TOP)
            text = open(path, encoding="utf-8").read()
            for m in TABLE_RE.finditer(text):
                tables[(rel, m.group(1))] = [
                    a or b for a, b in KEY_RE.findall(m.group(2))]
            global_keys.update(GLOBAL_RE.findall(text))
    return tables, global_keys


def doc_keys(doc, heading):
    keys = []
    for cells in gen.doc_table(doc, heading):
        k = gen.table_key(cells[0])
        if k is None:
            raise SystemExit("%s %s: %r is not a `key`" % (doc, heading, cells[0]))
        keys.append(k)
    return keys


def compare(what, code, doc, where):
    errors = []
    for k in sorted(set(code) - set(doc)):
        errors.append("%s: key %s is not documented in %s %s" % (what, k, *where))
    for k in sorted(set(doc) - set(code)):
        errors.append("%s %s: documents key %s, which %s does not have"
                      % (where[0], where[1], k, what))
    for k in sorted({k for k in doc if doc.count(k) > 1}):
        errors.append("%s %s: key %s is documented twice" % (where[0], where[1], k))
    return errors


def check(tables, global_keys):
    """The list of mismatches between the tables and the docs."""
    errors = []
    for t in sorted(set(tables) - set(TABLES)):
        errors.append("%s: table %s has no documentation section; add it to "
                      "TABLES in tests/integration/test_doc_keys.py" % t)
    sections = {}
    for t, where in sorted(TABLES.items()):
        if t not in tables:
            errors.append("%s: table %s is gone; update TABLES" % t)
            continue
        names, keys = sections.setdefault(where, ([], []))
        names.append("%s %s" % t)
        keys += tables[t]
    if global_keys:
        names, keys = sections.setdefault(GLOBAL, ([], []))
        names.append("[global] (xd_config_get)")
        keys += sorted(global_keys)
    for where, (names, keys) in sorted(sections.items()):
        errors += compare(" + ".join(names), keys, doc_keys(*where), where)
    return errors


def main():
    tables, global_keys = source_tables()
    assert len(tables) >= len(TABLES), "key tables not found"
    errors = check(tables, global_keys)

    # The check itself must see a drift both ways: a key only in a table,
    # and a key only in the docs.
    t = ("xmppd/router_conf.c", "xmppd_conf_keys")
    bad = dict(tables)
    bad[t] = tables[t] + ["xd_test_undocumented_key"]
    assert any("xd_test_undocumented_key is not documented" in e
               for e in check(bad, global_keys)), "missed an undocumented key"
    bad[t] = tables[t][1:]
    assert any("documents key %s" % tables[t][0] in e
               for e in check(bad, global_keys)), "missed a documented-only key"
    bad = dict(tables)
    bad[("components/new/main.c", "new_keys")] = ["x"]
    assert any("has no documentation section" in e
               for e in check(bad, global_keys)), "missed an unassigned table"

    man = subprocess.run([sys.executable, os.path.join(TOP, "contrib", "man",
                                                       "gen.py"), "--check"],
                         capture_output=True, text=True)
    if man.returncode != 0:
        errors.append(man.stdout.strip() + man.stderr.strip())
    for e in errors:
        print("FAIL", e)
    n = sum(len(v) for v in tables.values()) + len(global_keys)
    print("%d keys in %d tables checked against docs/" % (n, len(tables)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
