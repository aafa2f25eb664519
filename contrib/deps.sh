#!/bin/sh
# Installs the Debian packages xmppd needs, and only those that are missing.
#   contrib/deps.sh build   what building needs
#   contrib/deps.sh test    building, plus the real peers the tests run
set -eu

# clang is for the sanitizer and fuzz build only, which `make test` runs.
build_pkgs="cmake make gcc pkg-config openssl libevent-dev
libexpat1-dev libssl-dev libsqlite3-dev libinih-dev libidn-dev
libcurl4-openssl-dev libsystemd-dev libc-ares-dev"
# dnsmasq-base: the DNS server test_xmppdctl_check.py runs on loopback (the
# binary only: the dnsmasq package would also start a system service).
# lua-unbound: Prosody's resolver, which reads test_federation.py's hosts
# file.
# cloc: counts the lines of the example component (components/examples/dice).
test_pkgs="$build_pkgs clang python3 python3-slixmpp prosody lua-unbound
libclang-rt-14-dev clang-format fail2ban systemd dpkg-dev man-db dnsmasq-base cloc"

case "${1:-build}" in
build) want=$build_pkgs ;;
test) want=$test_pkgs ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "xmppd needs these Debian packages:$missing" >&2
    echo "install them as root: apt-get install -y$missing" >&2
    exit 1
fi

echo "installing:$missing"
# Debian starts services when it installs them; Prosody's would take the
# ports the tests use. A policy-rc.d that says no keeps them stopped.
policy=/usr/sbin/policy-rc.d
own_policy=""
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    own_policy=1
fi
trap '[ -n "$own_policy" ] && $sudo rm -f "$policy"' EXIT
# Should Prosody's service start anyway (a policy-rc.d that was not ours
# allowed it), stop it: the tests run their own. Only a Prosody this install
# started, never one that was running before: it may be the host's.
prosody_before=""
case " $missing " in
*" prosody "*) prosody_before=" $(pgrep -f /usr/bin/prosody | tr '\n' ' ') " ;;
esac
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
if [ -n "$prosody_before" ]; then
    for pid in $(pgrep -f /usr/bin/prosody || true); do
        case "$prosody_before" in
        *" $pid "*) ;;
        *) $sudo kill "$pid" 2>/dev/null || true ;;
        esac
    done
fi
