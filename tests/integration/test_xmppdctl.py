"""xmppdctl manages accounts on the live database: add, list, change the
password (old one refused, new one accepted), delete."""

from xdtest import can_login, check, login, logout, main



async def test(rig):
    rig.start_xmppd()
    r = rig.ctl("adduser", "bob@localhost", stdin="first-pw\n")
    check(r.returncode == 0, "adduser reads the password from stdin")
    r = rig.ctl("adduser", "Carol@LOCALHOST", "pw")
    check(r.returncode == 0, "adduser with the password as an argument")
    r = rig.ctl("adduser", "bob@localhost", "again")
    check(r.returncode == 1 and "exists" in r.stderr,
          "adding an existing account fails")
    r = rig.ctl("adduser", "dave@elsewhere.example", "pw")
    check(r.returncode == 1 and "not one of the hosts" in r.stderr,
          "a host that is not served is refused")
    r = rig.ctl("listusers")
    check(r.stdout.split() == ["bob@localhost", "carol@localhost"],
          "listusers shows prepared JIDs: %r" % r.stdout)
    check(await can_login(rig, "bob@localhost", "first-pw"),
          "the running server sees the new account")
    r = rig.ctl("passwd", "bob@localhost", "second-pw")
    check(r.returncode == 0, "passwd")
    check(not await can_login(rig, "bob@localhost", "first-pw"),
          "the old password is refused")
    check(await can_login(rig, "bob@localhost", "second-pw"),
          "the new password works")
    r = rig.ctl("deluser", "bob@localhost")
    check(r.returncode == 0, "deluser")
    check(not await can_login(rig, "bob@localhost", "second-pw"),
          "a deleted account cannot log in")
    r = rig.ctl("deluser", "bob@localhost")
    check(r.returncode == 1 and "no such account" in r.stderr,
          "deleting it twice fails")


main(test)
