# The Debian package: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (see docs/operator-guide.md). CPack needs only
# cmake and dpkg-deb, both here offline; a contrib/debian/ for
# dpkg-buildpackage would need debhelper as well.
set(CPACK_PACKAGE_NAME xmppd)
set(CPACK_PACKAGE_VENDOR "xmppd")
set(CPACK_PACKAGE_CONTACT "xmppd maintainers <xmppd@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "XMPP server suite: router, multi-user chat and components")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_GENERATOR DEB)
# The configuration and the state folder are absolute destinations (/etc,
# /var): they must go into the staging tree, not the host.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
# dpkg-shlibdeps (dpkg-dev) finds the libraries' packages from the binaries.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd | systemd-standalone-sysusers")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/contrib/debian/postinst
    ${PROJECT_SOURCE_DIR}/contrib/debian/prerm
    ${PROJECT_SOURCE_DIR}/contrib/debian/postrm
    ${PROJECT_SOURCE_DIR}/contrib/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
