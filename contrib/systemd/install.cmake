# The installed layout of the suite: programs under the prefix, the
# configuration in XD_CONFIG_DIR and the state in XD_STATE_DIR (the host's
# /etc and /var whatever the prefix, as the units and xmppdctl expect them),
# one systemd unit per program, the service user and the state folder
# (sysusers.d, tmpfiles.d). Included by the top-level CMakeLists.txt.
set(XD_CONFIG_DIR /etc/xmppd CACHE PATH "where the installed configuration lives")
set(XD_STATE_DIR /var/lib/xmppd CACHE PATH "the services' state folder")
set(XD_CONFIG_FILE ${XD_CONFIG_DIR}/xmppd.ini)
set(XD_SYSTEMD_DIR ${CMAKE_CURRENT_LIST_DIR})

# xd_install_service(PROGRAM DESCRIPTION AFTER): installs PROGRAM (a target)
# in sbin and its unit PROGRAM.service from service.in. Every component and
# gateway calls it from its CMakeLists.txt. The unit is written at install
# time, so that `cmake --install --prefix DIR` names DIR's binary.
function(xd_install_service program description after)
  install(TARGETS ${program} RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
  set(XD_UNIT_PROGRAM ${program})
  set(XD_UNIT_DESCRIPTION ${description})
  set(XD_UNIT_AFTER ${after})
  set(XD_UNIT_BINARY "@XD_INSTALL_PREFIX@/${CMAKE_INSTALL_SBINDIR}/${program}")
  set(stage ${CMAKE_BINARY_DIR}/systemd/${program}.service.in)
  configure_file(${XD_SYSTEMD_DIR}/service.in ${stage} @ONLY)
  install(CODE "
    set(XD_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${stage}\"
      \"${CMAKE_BINARY_DIR}/systemd/${program}.service\" @ONLY)
    file(INSTALL \"${CMAKE_BINARY_DIR}/systemd/${program}.service\"
      DESTINATION \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\")")
endfunction()

configure_file(${XD_SYSTEMD_DIR}/sysusers.conf
  ${CMAKE_BINARY_DIR}/systemd/sysusers.conf @ONLY)
configure_file(${XD_SYSTEMD_DIR}/tmpfiles.conf
  ${CMAKE_BINARY_DIR}/systemd/tmpfiles.conf @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/systemd/sysusers.conf
  DESTINATION lib/sysusers.d RENAME xmppd.conf)
install(FILES ${CMAKE_BINARY_DIR}/systemd/tmpfiles.conf
  DESTINATION lib/tmpfiles.d RENAME xmppd.conf)
configure_file(${PROJECT_SOURCE_DIR}/contrib/xmppd.ini.example
  ${CMAKE_BINARY_DIR}/systemd/xmppd.ini @ONLY)
# Mode 0640: the file holds component secrets; the package's postinst makes
# it root:xmppd so that the services (and only they) can read it. An
# existing file is the operator's: installing again keeps it (the package
# marks it a conffile, which dpkg keeps the same way).
install(CODE "
  set(dst \"\$ENV{DESTDIR}${XD_CONFIG_DIR}/xmppd.ini\")
  if(EXISTS \"\${dst}\")
    message(STATUS \"Keeping: \${dst}\")
  else()
    file(INSTALL \"${CMAKE_BINARY_DIR}/systemd/xmppd.ini\"
      DESTINATION \"${XD_CONFIG_DIR}\"
      PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
  endif()")
install(DIRECTORY DESTINATION ${XD_STATE_DIR}
  DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
                        GROUP_READ GROUP_EXECUTE)
