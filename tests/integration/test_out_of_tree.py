"""libxmppd as an outside developer gets it: `cmake --install` of the library
alone (XD_LIBRARY_ONLY) into a scratch prefix, then, outside the tree, the
echo component built against it with `pkg-config --cflags --libs libxmppd`
(no --static) and with a CMake project doing find_package(xmppd), each run
with --version; and the guide's unit test example (test_hello, written
against <xmppd/testing.h>) built both ways against libxmppd-testing and run;
and components/examples/dice as it is shipped (its own CMakeLists.txt with
find_package(xmppd), and pkg-config), with its unit test run. No XMPP, no
ports."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

from xdtest import Failure, check

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run(cmd, **kw):
    """Runs cmd; its output is printed, and a failure is a Failure."""
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, **kw)
    if p.returncode != 0:
        print(p.stdout)
        raise Failure("%s: exit %d" % (" ".join(cmd), p.returncode))
    return p.stdout


def project_version():
    text = open(os.path.join(TOP, "CMakeLists.txt")).read()
    return re.search(r"project\(xmppd VERSION ([0-9.]+)", text).group(1)


def guide_example(name):
    """The C blocks of one `<!-- example NAME -->` of the guide, as one
    file, the way tests/guide/CMakeLists.txt puts them together."""
    guide = open(os.path.join(TOP, "docs", "component-guide.md")).read()
    begin = guide.index("<!-- example %s: begin" % name)
    end = guide.index("<!-- example %s: end -->" % name, begin)
    blocks = re.findall(r"\n```c\n(.*?)\n```", guide[begin:end], re.S)
    check(blocks, "the guide has the example " + name)
    return "\n".join(blocks) + "\n"


def soname(path):
    out = run(["readelf", "-d", path])
    m = re.search(r"\(SONAME\)\s+Library soname: \[([^]]+)\]", out)
    return m.group(1) if m else None


def needed(path):
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]",
                      run(["readelf", "-d", path]))


def test(tmp):
    version = project_version()
    major = version.split(".")[0]
    build, prefix, src = (os.path.join(tmp, d) for d in
                          ("build", "prefix", "src"))

    # The library alone, installed.
    run(["cmake", "-S", TOP, "-B", build, "-DXD_LIBRARY_ONLY=ON",
         "-DCMAKE_BUILD_TYPE=Debug", "-DCMAKE_INSTALL_PREFIX=" + prefix])
    run(["cmake", "--build", build, "-j2"])
    check(not os.path.exists(os.path.join(build, "xmppd")) and
          not os.path.exists(os.path.join(build, "tests")),
          "XD_LIBRARY_ONLY builds neither the router nor the tests")
    run(["cmake", "--install", build])
    check(not os.path.exists(os.path.join(prefix, "bin")),
          "the library alone installs no program")
    so = glob.glob(os.path.join(prefix, "lib*", "**", "libxmppd.so.*"),
                   recursive=True)
    real = [p for p in so if not os.path.islink(p)]
    check(len(real) == 1 and
          os.path.basename(real[0]) == "libxmppd.so." + version,
          "libxmppd.so.%s is installed: %s" % (version, so))
    libdir = os.path.dirname(real[0])
    check(soname(real[0]) == "libxmppd.so." + major,
          "its soname is libxmppd.so.%s: %s" % (major, soname(real[0])))
    for f in ("libxmppd.so", "libxmppd.so." + major, "libxmppd.a",
              "libxmppd-testing.a", "pkgconfig/libxmppd.pc",
              "pkgconfig/libxmppd-testing.pc", "cmake/xmppd/xmppdConfig.cmake"):
        check(os.path.exists(os.path.join(libdir, f)), f + " is installed")
    for h in ("component.h", "config.h", "testing.h", "version.h"):
        check(os.path.exists(os.path.join(prefix, "include", "xmppd", h)),
              "<xmppd/%s> is installed" % h)

    # Outside the tree: the echo component and the guide's test.
    os.makedirs(src)
    shutil.copy(os.path.join(TOP, "components", "echo", "main.c"),
                os.path.join(src, "main.c"))
    with open(os.path.join(src, "test_hello.c"), "w") as f:
        f.write(guide_example("test_hello"))
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(libdir, "pkgconfig"),
               LD_LIBRARY_PATH=libdir)
    want = "xmppd-echo %s (libxmppd %s)\n" % (version, version)

    # pkg-config, without --static.
    flags = run(["pkg-config", "--cflags", "--libs", "libxmppd"],
                env=env).split()
    echo = os.path.join(tmp, "echo-pkgconfig")
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", echo,
         os.path.join(src, "main.c")] + flags, env=env)
    check("libxmppd.so." + major in needed(echo),
          "the pkg-config build links the shared library: %s" % needed(echo))
    out = run([echo, "--version"], env=env)
    check(out == want, "pkg-config build: --version says %r" % out)
    tflags = run(["pkg-config", "--cflags", "--libs", "libxmppd-testing"],
                 env=env).split()
    hello = os.path.join(tmp, "hello-pkgconfig")
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", hello,
         os.path.join(src, "test_hello.c")] + tflags, env=env)
    out = run([hello], env=env)
    check("ok" in out.splitlines(), "the guide's test passes (pkg-config): " + out)

    # CMake: find_package(xmppd) -> xmppd::xmppd, xmppd::testing.
    with open(os.path.join(src, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.16)\n"
                "project(echo_out_of_tree C)\n"
                "find_package(xmppd %s REQUIRED)\n"
                "add_executable(my-echo main.c)\n"
                "target_link_libraries(my-echo PRIVATE xmppd::xmppd)\n"
                "add_executable(my-echo-static main.c)\n"
                "target_link_libraries(my-echo-static PRIVATE "
                "xmppd::xmppd_static)\n"
                "add_executable(test_hello test_hello.c)\n"
                "target_link_libraries(test_hello PRIVATE xmppd::testing)\n"
                % version)
    cbuild = os.path.join(tmp, "cbuild")
    run(["cmake", "-S", src, "-B", cbuild, "-DCMAKE_PREFIX_PATH=" + prefix])
    run(["cmake", "--build", cbuild, "-j2"])
    plain = dict(os.environ)  # CMake's RPATH finds the library
    plain.pop("LD_LIBRARY_PATH", None)
    echo = os.path.join(cbuild, "my-echo")
    check("libxmppd.so." + major in needed(echo),
          "xmppd::xmppd is the shared library")
    out = run([echo, "--version"], env=plain)
    check(out == want, "CMake build: --version says %r" % out)
    static = os.path.join(cbuild, "my-echo-static")
    check(not any(n.startswith("libxmppd") for n in needed(static)),
          "xmppd::xmppd_static links libxmppd.a")
    out = run([static, "--version"], env=plain)
    check(out == want, "CMake static build: --version says %r" % out)
    out = run([os.path.join(cbuild, "test_hello")], env=plain)
    check("ok" in out.splitlines(), "the guide's test passes (CMake): " + out)

    # The example component, copied out of the tree as it is.
    dice_src = os.path.join(tmp, "dice")
    shutil.copytree(os.path.join(TOP, "components", "examples", "dice"),
                    dice_src)
    dice_want = "xmppd-dice 1.0 (libxmppd %s)\n" % version
    dice = os.path.join(tmp, "dice-pkgconfig")
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", dice,
         os.path.join(dice_src, "main.c")] + flags, env=env)
    out = run([dice, "--version"], env=env)
    check(out == dice_want, "xmppd-dice with pkg-config: --version says %r"
          % out)
    dtest = os.path.join(tmp, "test_dice-pkgconfig")
    run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-o", dtest,
         os.path.join(dice_src, "test_dice.c")] + tflags, env=env)
    out = run([dtest], env=env, cwd=tmp)
    check("ok" in out.splitlines(), "test_dice passes (pkg-config)")
    dbuild = os.path.join(tmp, "dice-build")
    run(["cmake", "-S", dice_src, "-B", dbuild,
         "-DCMAKE_PREFIX_PATH=" + prefix])
    run(["cmake", "--build", dbuild, "-j2"])
    out = run([os.path.join(dbuild, "xmppd-dice"), "--version"], env=plain)
    check(out == dice_want, "xmppd-dice with its CMakeLists.txt: --version "
          "says %r" % out)
    check("libxmppd.so." + major in needed(os.path.join(dbuild, "xmppd-dice")),
          "it links the shared library")
    out = run(["ctest", "--output-on-failure"], cwd=dbuild, env=plain)
    check("100% tests passed" in out, "its ctest runs test_dice: " + out)


def main():
    tmp = tempfile.mkdtemp(prefix="xd-oot-")
    ok = False
    try:
        test(tmp)
        ok = True
    except Failure as e:
        print("FAIL:", e)
    finally:
        if ok:
            shutil.rmtree(tmp)
        else:
            print("left in", tmp)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
