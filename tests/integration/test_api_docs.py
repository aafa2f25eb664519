"""Every public function of libxmppd is documented where it is declared:
each declaration of a function in framework/include/xmppd/*.h has a
comment right above it (ending on the line before, or on the line before
a run of declarations the comment covers as a group, with no blank line
between), or a comment after it on its own last line. The check is shown
to catch an undocumented declaration before the headers are read.

No binaries needed: it reads the tree only."""
import glob
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
HEADERS = os.path.join(TOP, "framework", "include", "xmppd")

# A function declaration starts at column 0 with a return type and the
# function's name followed by '(' (xd_...), possibly over several lines,
# and ends with ');'.
DECL_START = re.compile(
    r"^(?!typedef|#|/\*| |\})(?:[A-Za-z_][\w \*]*?\b)?(xd_\w+)\(")


def strip_comments_keep_lines(lines):
    """For each line: whether it is inside or ends a comment block."""
    out = []
    in_comment = False
    for line in lines:
        s = line.strip()
        starts = s.startswith("/*")
        if in_comment or starts:
            out.append("comment")
            if "*/" in s:
                in_comment = False
            elif starts or in_comment:
                in_comment = "*/" not in s
            continue
        out.append("blank" if not s else "code")
    return out


def undocumented(text, name="<text>"):
    """[(line, function)] of the declarations without a comment."""
    lines = text.split("\n")
    kinds = strip_comments_keep_lines(lines)
    bad = []
    i = 0
    while i < len(lines):
        m = DECL_START.match(lines[i]) if kinds[i] == "code" else None
        if not m:
            i += 1
            continue
        start = i
        # The return type on a line of its own (STYLE.md) belongs to it.
        if lines[i].startswith("xd_") and i > 0 and kinds[i - 1] == "code" \
                and not lines[i - 1].rstrip().endswith((";", "}")):
            start = i - 1
        while ";" not in lines[i] and "{" not in lines[i]:
            i += 1
        end = i
        if "{" in lines[end]:  # an inline definition: not a declaration
            i += 1
            continue
        documented = "/*" in lines[end] and lines[end].rstrip().endswith("*/")
        # Walk up over the declarations of the same group.
        j = start - 1
        while not documented and j >= 0 and kinds[j] != "blank":
            if kinds[j] == "comment":
                documented = True
                break
            j -= 1
        if not documented:
            bad.append((start + 1, m.group(1)))
        i = end + 1
    return bad


def self_test():
    sample = ("/* Documented. */\nint xd_a(void);\nint xd_b(void);\n\n"
              "int xd_c(int x,\n         int y);\n\n"
              "void xd_d(void); /* after it */\n\n"
              "/* A group: */\nint xd_e(void);\n\nchar *\nxd_f(void);\n")
    got = [f for _, f in undocumented(sample)]
    assert got == ["xd_c", "xd_f"], "the check misses or invents: %s" % got


def main():
    self_test()
    bad = []
    n = 0
    for path in sorted(glob.glob(os.path.join(HEADERS, "*.h"))):
        text = open(path, encoding="utf-8").read()
        n += len([1 for line in text.split("\n") if DECL_START.match(line)])
        for line, fn in undocumented(text, path):
            bad.append("%s:%d: %s has no doc comment"
                       % (os.path.relpath(path, TOP), line, fn))
    for b in bad:
        print("FAIL:", b)
    if not bad:
        print("ok: %d public functions documented in framework/include/xmppd"
              % n)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
