#!/bin/sh
# `make run`: a working xmppd for localhost in ./state (kept between runs):
# self-signed certificate, SQLite database, component secret, one account.
# Starts the router, xmppd-echo and xmppd-muc (conference.localhost), says
# how to connect, and stops them all on Ctrl-C.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
BUILD=${BUILD:-build}
STATE=${XMPPD_STATE:-$top/state}
C2S_PORT=${XMPPD_C2S_PORT:-5222}
C2S_TLS_PORT=${XMPPD_C2S_TLS_PORT:-5223}
COMPONENT_PORT=${XMPPD_COMPONENT_PORT:-5347}
xmppd=$top/$BUILD/xmppd/xmppd
xmppdctl=$top/$BUILD/xmppd/xmppdctl
echo_bin=$top/$BUILD/components/echo/xmppd-echo
muc_bin=$top/$BUILD/components/muc/xmppd-muc

for b in "$xmppd" "$xmppdctl" "$echo_bin" "$muc_bin"; do
    [ -x "$b" ] || { echo "run.sh: $b is missing: run 'make build'" >&2; exit 1; }
done
mkdir -p "$STATE"
chmod 700 "$STATE"
cfg=$STATE/xmppd.ini

if [ ! -f "$STATE/localhost.crt" ]; then
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,DNS:*.localhost \
        -keyout "$STATE/localhost.key" -out "$STATE/localhost.crt" 2>/dev/null
fi
if [ ! -f "$STATE/component-secret" ]; then
    (umask 077; openssl rand -hex 16 >"$STATE/component-secret")
fi
secret=$(cat "$STATE/component-secret")

# The configuration is written once and then kept, so that edits survive:
# delete it to have it written again (the XMPPD_*_PORT variables only
# apply to a freshly written file).
# A file from before run.sh kept it was never edited (edits were lost on
# each start): it is written again, once, with the new header.
if [ -f "$cfg" ] && head -n 1 "$cfg" | grep -q '^; Written by contrib/run.sh; see'; then
    rm -f "$cfg"
fi
if [ -f "$cfg" ]; then
    cfg_note="kept from an earlier run (delete it to have it written again)"
    # The banner shows the ports the kept file says.
    ini_get() {
        sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p" \
            "$cfg" | head -n 1
    }
    C2S_PORT=$(ini_get c2s_port)
    C2S_TLS_PORT=$(ini_get c2s_tls_port)
    C2S_PORT=${C2S_PORT:-5222}
    C2S_TLS_PORT=${C2S_TLS_PORT:-5223}
else
    cfg_note="written now"
    cat >"$cfg" <<INI
; Written by contrib/run.sh on its first run, then kept: your edits stay.
; Delete this file to have it written again. See docs/xmppd.md for every key.
[global]
log_level = info

[xmppd]
hosts = localhost
db_path = $STATE/xmppd.db
control_socket = $STATE/xmppd.sock
tls_cert = $STATE/localhost.crt
tls_key = $STATE/localhost.key
c2s_address = 127.0.0.1
c2s_port = $C2S_PORT
c2s_tls_port = $C2S_TLS_PORT
component_address = 127.0.0.1
component_port = $COMPONENT_PORT

[component echo.localhost]
secret = $secret

[echo]
domain = echo.localhost
secret = $secret
router_host = 127.0.0.1
router_port = $COMPONENT_PORT

[component conference.localhost]
secret = $secret

; Multi-user chat: see docs/muc.md for every key.
[muc]
domain = conference.localhost
secret = $secret
router_host = 127.0.0.1
router_port = $COMPONENT_PORT
db_path = $STATE/muc.db
admins = admin@localhost
INI
fi

account_note="created now"
if [ ! -f "$STATE/admin-password" ]; then
    (umask 077; openssl rand -base64 12 | tr -d '/+=\n' >"$STATE/admin-password")
    "$xmppdctl" -c "$cfg" adduser admin@localhost "$(cat "$STATE/admin-password")" \
        </dev/null >/dev/null
else
    account_note="from an earlier run"
fi
password=$(cat "$STATE/admin-password")

# Whether the saved password still logs in (`xmppdctl passwd` may have
# changed it): SASL PLAIN over direct TLS, answered with <success/> or
# <failure/>. 0 if it does, 1 if it does not, 2 if there was no answer.
password_check() {
    reply=$STATE/.login-check
    : >"$reply"
    auth=$(printf '\000%s\000%s' admin "$password" | openssl base64 -A)
    {
        printf "<?xml version='1.0'?><stream:stream to='localhost' "
        printf "xmlns='jabber:client' "
        printf "xmlns:stream='http://etherx.jabber.org/streams' "
        printf "version='1.0'>"
        printf "<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
        printf "mechanism='PLAIN'>%s</auth>" "$auth"
        i=0
        while [ $i -lt 50 ] && ! grep -q -e '<success' -e '<failure' "$reply"; do
            sleep 0.1
            i=$((i + 1))
        done
        printf '</stream:stream>'
    } | timeout 10 openssl s_client -quiet -connect "127.0.0.1:$C2S_TLS_PORT" \
        -servername localhost >"$reply" 2>/dev/null || true
    ok=2
    grep -q '<failure' "$reply" && ok=1
    grep -q '<success' "$reply" && ok=0
    rm -f "$reply"
    return $ok
}

router_pid=""
echo_pid=""
muc_pid=""
# Ctrl-C in a terminal signals the whole process group: the children may
# already be ending when this runs, so nothing here may fail the script.
# After a SIGINT the router is given its grace (2 s at most, at once when
# no stream is open) to stop by itself: a second signal would cut short
# its system-shutdown errors to clients.
stop() {
    trap '' INT TERM
    set +e
    for pid in $muc_pid $echo_pid; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in $muc_pid $echo_pid; do
        wait "$pid" 2>/dev/null
    done
    if [ -n "$router_pid" ]; then
        i=0
        while [ "${1:-}" = INT ] && [ $i -lt 25 ] &&
            kill -0 "$router_pid" 2>/dev/null; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -TERM "$router_pid" 2>/dev/null
        wait "$router_pid" 2>/dev/null
    fi
    set -e
}
trap 'stop INT; echo "stopped."; exit 0' INT
trap 'stop; echo "stopped."; exit 0' TERM

touch "$STATE/xmppd.log"
before=$(wc -l <"$STATE/xmppd.log")
"$xmppd" -c "$cfg" 2>>"$STATE/xmppd.log" &
router_pid=$!
i=0
until tail -n +"$((before + 1))" "$STATE/xmppd.log" | grep -q " ready"; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$router_pid" 2>/dev/null; then
        echo "xmppd did not start; its log:" >&2
        tail -20 "$STATE/xmppd.log" >&2
        stop
        exit 1
    fi
    sleep 0.1
done
"$echo_bin" -c "$cfg" 2>>"$STATE/xmppd-echo.log" &
echo_pid=$!
"$muc_bin" -c "$cfg" 2>>"$STATE/xmppd-muc.log" &
muc_pid=$!

checked=0
password_check || checked=$?
if [ $checked -eq 0 ]; then
    password_line="password:    $password"
elif [ $checked -eq 2 ]; then
    password_line="password:    $password (could not check that it still works)"
else
    password_line="password:    (changed since $STATE/admin-password was written: use
               the one you set, or: $BUILD/xmppd/xmppdctl -c $cfg passwd admin@localhost)"
fi

cat <<MSG

xmppd is running for localhost.

  account:     admin@localhost ($account_note)
  $password_line
  server:      127.0.0.1, port $C2S_PORT (STARTTLS) or $C2S_TLS_PORT (direct TLS)
  certificate: self-signed ($STATE/localhost.crt): accept it in your client
  try:         send a message to echo.localhost; it answers with the same text
  chat rooms:  join any room@conference.localhost (created on first join)

  more accounts: $BUILD/xmppd/xmppdctl -c $cfg adduser bob@localhost
  logs:          $STATE/xmppd.log, $STATE/xmppd-echo.log, $STATE/xmppd-muc.log
  configuration: $cfg ($cfg_note)
  Ctrl-C stops everything.

MSG

# Wait for either child; if one dies, stop the other and fail.
while kill -0 "$router_pid" 2>/dev/null && kill -0 "$echo_pid" 2>/dev/null &&
    kill -0 "$muc_pid" 2>/dev/null; do
    sleep 1
done
echo "a process ended unexpectedly; see $STATE/*.log" >&2
stop
exit 1
