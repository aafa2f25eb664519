#!/bin/bash
# tests/bench/compare.sh: the side-by-side benchmark of xmppd, Prosody 0.12
# and ejabberd 23.01 (Debian packages) on one 2-core Debian 12 machine, in
# one command. See tests/bench/README.md.
#
# As root, it installs what is missing (apt-get), builds xmppd and xdbench
# (RelWithDebInfo, in build-bench), writes each server's configuration into a
# scratch folder and creates the same accounts with the same password and
# SCRAM iteration count on all three. Then, BENCH_RUNS times, for each server
# in turn: starts it in the foreground pinned to core 0 and runs four loads
# with xdbench pinned to core 1 (the server is started afresh for the memory
# load and again for the others), then, afresh again, the two MUC loads (one
# room, xmppd with xmppd-muc on the same core). It prints the raw numbers and one markdown
# table of medians and ratios, also written to $BENCH_DIR/results.md. The
# system services are never used: every server listens on loopback ports of
# its own and is stopped by PID.
#
# Settings (environment):
#   BENCH_DIR          scratch folder (default /tmp/xdbench.PID; kept)
#   BENCH_RUNS         runs per load and server, median reported (3)
#   BENCH_DURATION     seconds per timed load (10)
#   BENCH_CONNS        connections for the message loads, in pairs (200)
#   BENCH_WINDOW       messages in flight per sender, closed loop (10)
#   BENCH_RATE         offered messages/s for the latency load (5000)
#   BENCH_IDLE_CONNS   idle authenticated connections for memory (2000)
#   BENCH_IDLE_HOLD    seconds they are held before the RSS is read (25)
#   BENCH_LOGIN_CONNS  concurrent connections logging in over and over (50)
#   BENCH_ITERATIONS   SCRAM PBKDF2 iterations on all three (4096)
#   BENCH_SERVERS      which servers, in order ("xmppd prosody ejabberd")
#   BENCH_MAM          1: every server archives every message (XEP-0313);
#                      default 0: none does
#   BENCH_MUC          1 (default): the MUC loads too; 0: not; only: only
#                      the MUC loads
#   BENCH_MUC_CONNS    occupants of the one room (100)
#   BENCH_MUC_SENDERS  occupants that send (5)
#   BENCH_MUC_WINDOW   messages in flight per sender, closed loop (10)
#   BENCH_MUC_RATE     offered messages/s for the MUC latency load (50, that
#                      is 5,000 deliveries/s with 100 occupants)
#   BENCH_PORT         first of the loopback ports used (25222; +5 xmppd's
#                      component port, +10 Prosody, +20 ejabberd, +77
#                      ejabberd's Erlang distribution)
#   BUILD              build folder under the source tree (build-bench)
#   BENCH_BUILD        0: do not build, use what is in BUILD (1)
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/bench
BENCH_DIR=${BENCH_DIR:-/tmp/xdbench.$$}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_DURATION=${BENCH_DURATION:-10}
BENCH_CONNS=${BENCH_CONNS:-200}
BENCH_WINDOW=${BENCH_WINDOW:-10}
BENCH_RATE=${BENCH_RATE:-5000}
BENCH_IDLE_CONNS=${BENCH_IDLE_CONNS:-2000}
BENCH_IDLE_HOLD=${BENCH_IDLE_HOLD:-25}
BENCH_LOGIN_CONNS=${BENCH_LOGIN_CONNS:-50}
BENCH_ITERATIONS=${BENCH_ITERATIONS:-4096}
BENCH_SERVERS=${BENCH_SERVERS:-xmppd prosody ejabberd}
BENCH_MAM=${BENCH_MAM:-0}
BENCH_MUC=${BENCH_MUC:-1}
BENCH_MUC_CONNS=${BENCH_MUC_CONNS:-100}
BENCH_MUC_SENDERS=${BENCH_MUC_SENDERS:-5}
BENCH_MUC_WINDOW=${BENCH_MUC_WINDOW:-10}
BENCH_MUC_RATE=${BENCH_MUC_RATE:-50}
BENCH_PORT=${BENCH_PORT:-25222}
BUILD=${BUILD:-build-bench}
BENCH_BUILD=${BENCH_BUILD:-1}
PASSWORD=bench-pw  # xmppd: password_min_length is 8 by default
DOMAIN=localhost
MUC_DOMAIN=conference.$DOMAIN
MUC_ROOM=bench # rooms bench@ (closed loop) and bench-rate@ (latency)
SERVER_CPU=0    # core the server runs on
GEN_CPU=1       # core xdbench runs on
GEN_CPU_FLAG=90 # generator CPU (%) from which a figure is flagged
OTHERS_FLAG=15  # CPU (%) of other processes on the server's core, flagged

xmppd_port=$BENCH_PORT
xmppd_component_port=$((BENCH_PORT + 5))
prosody_port=$((BENCH_PORT + 10))
ejabberd_port=$((BENCH_PORT + 20))
ejabberd_dist_port=$((BENCH_PORT + 77))

log() { printf '%s compare.sh: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

case $BENCH_MUC in
0 | 1 | only) ;;
*) die "BENCH_MUC must be 0, 1 or only" ;;
esac
users=$BENCH_CONNS
if [ "$BENCH_IDLE_CONNS" -gt "$users" ]; then users=$BENCH_IDLE_CONNS; fi
if [ "$BENCH_LOGIN_CONNS" -gt "$users" ]; then users=$BENCH_LOGIN_CONNS; fi
if [ "$BENCH_MUC" != 0 ] && [ "$BENCH_MUC_CONNS" -gt "$users" ]; then
    users=$BENCH_MUC_CONNS
fi
if [ "$BENCH_MUC" = only ]; then users=$BENCH_MUC_CONNS; fi
[ "$BENCH_ITERATIONS" -ge 4096 ] ||
    die "BENCH_ITERATIONS must be at least 4096 (xmppd's minimum)"
[ $((BENCH_CONNS % 2)) -eq 0 ] || die "BENCH_CONNS must be even"
[ "$(nproc)" -ge 2 ] || die "needs two cores (server on one, generator on the other)"
# Root: apt-get, and starting each server as its own user with setpriv.
[ "$(id -u)" -eq 0 ] || die "run as root (e.g. sudo $0)"

# --- installation and build -------------------------------------------------

install_missing() {
    local want=() p made_policy=0
    # The build dependencies (as contrib/deps.sh), the two peers, and
    # Prosody's libevent backend.
    for p in cmake make gcc pkg-config openssl libevent-dev libexpat1-dev \
        libssl-dev libsqlite3-dev libinih-dev libidn-dev prosody lua-event \
        ejabberd; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q "ok installed"; then
            want+=("$p")
        fi
    done
    [ ${#want[@]} -eq 0 ] && return 0
    log "installing ${want[*]}"
    # Debian's maintainer scripts would start the services on the default
    # ports: forbid that while installing.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        made_policy=1
    fi
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        install -y -qq --no-install-recommends "${want[@]}" >&2
    if [ $made_policy = 1 ]; then
        rm -f /usr/sbin/policy-rc.d
    fi
}

muc_built=0 # xmppd-muc could be built (else xmppd's MUC figures are n/a)

build() {
    if [ "$BENCH_BUILD" = 0 ]; then
        log "not building (BENCH_BUILD=0): using $BUILD as it is"
        [ -x "$top/$BUILD/components/muc/xmppd-muc" ] && muc_built=1
        return 0
    fi
    if [ ! -f "$top/$BUILD/CMakeCache.txt" ]; then
        log "configuring $BUILD"
        cmake -S "$top" -B "$top/$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            >"$BENCH_DIR/build.log" 2>&1 ||
            die "cmake failed: see $BENCH_DIR/build.log"
    fi
    log "building xmppd, xmppdctl, xdbench ($BUILD)"
    cmake --build "$top/$BUILD" -j2 --target xmppd xmppdctl xdbench \
        >>"$BENCH_DIR/build.log" 2>&1 ||
        die "build failed: see $BENCH_DIR/build.log"
    if [ "$BENCH_MUC" != 0 ] && [[ " $BENCH_SERVERS " == *" xmppd "* ]]; then
        log "building xmppd-muc ($BUILD)"
        if cmake --build "$top/$BUILD" -j2 --target xmppd-muc \
            >>"$BENCH_DIR/build.log" 2>&1; then
            muc_built=1
        else
            log "xmppd-muc did not build (see $BENCH_DIR/build.log): xmppd's MUC figures will be n/a"
        fi
    fi
}

# --- helpers ------------------------------------------------------------------

# Fills @NAME@ placeholders of a template: fill TEMPLATE OUT NAME=VALUE...
fill() {
    local in=$1 out=$2 expr=() kv
    shift 2
    for kv in "$@"; do
        expr+=(-e "s|@${kv%%=*}@|${kv#*=}|g")
    done
    sed "${expr[@]}" "$in" >"$out"
}

port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# wait_port PORT PID LOG: until the port accepts, or the process is gone.
wait_port() {
    local i
    for ((i = 0; i < 600; i++)); do
        port_open "$1" && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    log "server did not come up on port $1; the end of $3:"
    tail -20 "$3" >&2 || true
    return 1
}

# CPU seconds (user+system, all threads) a process has used.
proc_cpu() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}

# Busy and total jiffies of one core, from /proc/stat: "busy total".
core_jiffies() {
    awk -v c="cpu$1" '$1 == c { busy = $2 + $3 + $4 + $7 + $8 + $9
                                print busy, busy + $5 + $6 }' /proc/stat
}

server_pid=""   # the process that does the work (measured, pinned)
launcher_pid="" # what we started (same as server_pid but for ejabberd)
muc_pid=""      # xmppd-muc, when it runs beside xmppd (also measured)

# CPU seconds of the server: its process, plus xmppd-muc if it runs.
server_cpu() {
    local p t=0
    for p in $server_pid $muc_pid; do
        t=$(awk -v a="$t" -v b="$(proc_cpu "$p")" 'BEGIN { print a + b }')
    done
    echo "$t"
}

stop_server() {
    if [ -n "$muc_pid" ]; then
        kill -TERM "$muc_pid" 2>/dev/null || true
        local j
        for ((j = 0; j < 50; j++)); do
            kill -0 "$muc_pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$muc_pid" 2>/dev/null || true
        wait "$muc_pid" 2>/dev/null || true
        muc_pid=""
    fi
    if [ -n "$launcher_pid" ] && [ "$server_pid" = "$launcher_pid" ]; then
        # Failed before the ejabberd VM was identified: find it now.
        local vm
        vm=$(beam_below "$launcher_pid")
        [ -n "$vm" ] && server_pid=$vm
    fi
    if [ -n "$server_pid" ]; then
        kill -TERM "$server_pid" 2>/dev/null || true
    fi
    if [ -n "$launcher_pid" ]; then
        local i
        for ((i = 0; i < 150; i++)); do
            kill -0 "$launcher_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$launcher_pid" 2>/dev/null; then
            kill -KILL "$server_pid" "$launcher_pid" 2>/dev/null || true
        fi
        wait "$launcher_pid" 2>/dev/null || true
    fi
    server_pid=""
    launcher_pid=""
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_server
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

xdbench() {
    taskset -c $GEN_CPU "$top/$BUILD/tests/bench/xdbench" \
        --host 127.0.0.1 --port "$port" --domain $DOMAIN --prefix user \
        --password $PASSWORD "$@"
}

# --- xmppd --------------------------------------------------------------------

xmppd_setup() {
    local d=$BENCH_DIR/xmppd
    mkdir -p "$d"
    cat >"$d/xmppd.ini" <<INI
; Written by tests/bench/compare.sh: the benchmark configuration of
; tests/bench/README.md.
[global]
log_level = warn

[xmppd]
hosts = $DOMAIN
db_path = $d/xmppd.db
c2s_address = 127.0.0.1
c2s_port = $xmppd_port
c2s_tls_port = 0
c2s_require_tls = false
c2s_max_bytes_per_s = 0
max_sessions_per_account = 1000
; every load comes from 127.0.0.1: the per-address defaults (32
; connections, 60 a minute, 10 SASL exchanges at once) are for the
; Internet, not for a load generator
c2s_max_connections_per_address = 100000
c2s_connects_per_address_per_min = 0
sasl_ip_max_concurrent = 100000
sasl_ip_max_failures = 100000
component_address = 127.0.0.1
component_port = $([ "$BENCH_MUC" != 0 ] && echo "$xmppd_component_port" || echo 0)
control_socket = $d/xmppd.sock
scram_iterations = $BENCH_ITERATIONS
archive_default = $([ "$BENCH_MAM" = 1 ] && echo always || echo never)
INI
    if [ "$BENCH_MUC" != 0 ]; then
        local secret
        secret=$(openssl rand -hex 16)
        cat >>"$d/xmppd.ini" <<INI

[component $MUC_DOMAIN]
secret = $secret

; xmppd-muc: no archive, no rate limit, no history, rooms of up to 1000.
[muc]
domain = $MUC_DOMAIN
secret = $secret
router_host = 127.0.0.1
router_port = $xmppd_component_port
db_path = $d/muc.db
default_archive = false
occupant_rate = 0
history_default = 0
default_max_users = 1000
INI
    fi
    local have
    have=$("$top/$BUILD/xmppd/xmppdctl" -c "$d/xmppd.ini" listusers $DOMAIN \
        2>/dev/null | wc -l)
    if [ "$have" -lt "$users" ]; then
        log "xmppd: creating $users accounts"
        seq 1 "$users" | xargs -P 2 -I{} "$top/$BUILD/xmppd/xmppdctl" \
            -c "$d/xmppd.ini" adduser "user{}@$DOMAIN" $PASSWORD \
            >>"$d/xmppdctl.log" 2>&1 || true
        have=$("$top/$BUILD/xmppd/xmppdctl" -c "$d/xmppd.ini" listusers \
            $DOMAIN 2>/dev/null | wc -l)
        [ "$have" -ge "$users" ] ||
            die "xmppd: only $have of $users accounts; see $d/xmppdctl.log"
    fi
    # Every run starts from this copy: xmppd archives each message (MAM),
    # and a database grown by earlier runs would make later runs slower.
    [ -f "$d/xmppd.db-wal" ] && [ -s "$d/xmppd.db-wal" ] &&
        die "xmppd: $d/xmppd.db-wal is not empty after xmppdctl"
    cp "$d/xmppd.db" "$d/accounts.db"
}

# xmppd_start [muc]: the router; with muc, xmppd-muc too, on the same core.
xmppd_start() {
    local d=$BENCH_DIR/xmppd
    if [ "${1:-}" = muc ] && [ $muc_built != 1 ]; then
        log "xmppd: no xmppd-muc binary"
        return 1
    fi
    rm -f "$d/xmppd.db-wal" "$d/xmppd.db-shm"
    cp "$d/accounts.db" "$d/xmppd.db"
    taskset -c $SERVER_CPU "$top/$BUILD/xmppd/xmppd" -c "$d/xmppd.ini" \
        2>>"$d/xmppd.log" &
    launcher_pid=$!
    server_pid=$launcher_pid
    wait_port $xmppd_port "$launcher_pid" "$d/xmppd.log" || return 1
    [ "${1:-}" = muc ] || return 0
    rm -f "$d/muc.db" "$d/muc.db-wal" "$d/muc.db-shm"
    taskset -c $SERVER_CPU "$top/$BUILD/components/muc/xmppd-muc" \
        -c "$d/xmppd.ini" 2>>"$d/xmppd-muc.log" &
    muc_pid=$!
    # Up once its link to the router is established (and the handshake
    # had a moment).
    local i
    for ((i = 0; i < 100; i++)); do
        kill -0 "$muc_pid" 2>/dev/null || break
        if ss -Htn state established \
            "( dport = :$xmppd_component_port )" 2>/dev/null | grep -q .; then
            sleep 0.5
            kill -0 "$muc_pid" 2>/dev/null && return 0
            break
        fi
        sleep 0.1
    done
    log "xmppd-muc did not connect to the router; the end of $d/xmppd-muc.log:"
    tail -20 "$d/xmppd-muc.log" >&2 || true
    return 1
}

# --- Prosody ------------------------------------------------------------------

prosody_setup() {
    local d=$BENCH_DIR/prosody mam="" muc=""
    mkdir -p "$d/data" "$d/certs"
    [ "$BENCH_MAM" = 1 ] && mam='"mam";'
    # Prosody 0.12 has no occupant limit; history off (no mod_muc_mam).
    [ "$BENCH_MUC" != 0 ] && muc="\\n-- MUC (compare.sh): no history, no archive, no rate limit.\\nComponent \"$MUC_DOMAIN\" \"muc\"\\n    muc_room_default_history_length = 0\\n    max_history_messages = 0"
    fill "$here/prosody.cfg.lua.in" "$d/prosody.cfg.lua" "DIR=$d" \
        "PORT=$prosody_port" "ITERATIONS=$BENCH_ITERATIONS" \
        "PROSODY_MAM=$mam" "PROSODY_MUC=$muc"
    chown -R prosody: "$d"
    local acc=$d/data/$DOMAIN/accounts
    if [ ! -f "$acc/user$users.dat" ]; then
        log "prosody: creating $users accounts"
        prosodyctl --config "$d/prosody.cfg.lua" register user1 $DOMAIN \
            $PASSWORD >>"$d/prosodyctl.log" 2>&1 ||
            die "prosody: prosodyctl register failed; see $d/prosodyctl.log"
        [ -f "$acc/user1.dat" ] || die "prosody: no $acc/user1.dat"
        grep -Eq "iteration_count\"?\]? = $BENCH_ITERATIONS;" "$acc/user1.dat" ||
            die "prosody: user1.dat does not have $BENCH_ITERATIONS iterations"
        # The salted SCRAM data does not depend on the user name.
        local i
        for ((i = 2; i <= users; i++)); do
            cp -p "$acc/user1.dat" "$acc/user$i.dat"
        done
        chown -R prosody: "$d"
    fi
}

prosody_start() {
    local d=$BENCH_DIR/prosody
    # The prosody binary does not switch user itself (only prosodyctl
    # does; as root, mod_posix refuses to load): start it as prosody.
    (
        ulimit -n 20000
        cd "$d"
        exec taskset -c $SERVER_CPU setpriv --reuid=prosody \
            --regid=prosody --init-groups prosody \
            --config "$d/prosody.cfg.lua" -F
    ) >>"$d/prosody.out" 2>&1 &
    launcher_pid=$!
    server_pid=$launcher_pid
    wait_port $prosody_port "$launcher_pid" "$d/prosody.log"
}

# --- ejabberd -----------------------------------------------------------------

ejabberd_cookie=""

ejabberd_setup() {
    local d=$BENCH_DIR/ejabberd mam="" muc=""
    mkdir -p "$d/spool" "$d/logs"
    [ -f "$d/cookie" ] || openssl rand -hex 16 >"$d/cookie"
    ejabberd_cookie=$(cat "$d/cookie")
    [ "$BENCH_MAM" = 1 ] && mam=$'  mod_mam:\\n    default: always'
    # No history, rooms (and the service) of up to 1000, no message or
    # presence interval, rooms not archived even with BENCH_MAM=1.
    [ "$BENCH_MUC" != 0 ] && muc="  mod_muc:\\n    hosts:\\n      - $MUC_DOMAIN\\n    access_create: all\\n    history_size: 0\\n    max_users: 1000\\n    min_message_interval: 0\\n    min_presence_interval: 0\\n    default_room_options:\\n      max_users: 1000\\n      mam: false"
    fill "$here/ejabberd.yml.in" "$d/ejabberd.yml" "PORT=$ejabberd_port" \
        "EJABBERD_MAM=$mam" "EJABBERD_MUC=$muc"
    # ejabberdctl reads this from its -d folder. One scheduler: per-core
    # figures, like the single-threaded servers.
    cat >"$d/ejabberdctl.cfg" <<CFG
# Written by tests/bench/compare.sh.
ERLANG_NODE=xdbench@localhost
ERL_DIST_PORT=$ejabberd_dist_port
INET_DIST_INTERFACE=127.0.0.1
ERL_EPMD_ADDRESS=127.0.0.1
ERL_OPTIONS="-setcookie $ejabberd_cookie +S 1:1"
EJABBERD_PID_PATH=$d/ejabberd.pid
CFG
    chown -R ejabberd: "$d"
    chmod 755 "$BENCH_DIR"
}

ejabberd_start() {
    local d=$BENCH_DIR/ejabberd i
    # Before the accounts exist, a spool left by a failed first start is
    # of no use (and may be broken): start from an empty one.
    if [ ! -f "$d/accounts-done" ]; then
        rm -rf "${d:?}/spool"
        mkdir -p "$d/spool"
        chown ejabberd: "$d/spool"
    fi
    # Not through su (it drops the open-file limit to 1024): setpriv.
    (
        ulimit -n 20000
        cd "$d"
        export HOME=$d
        exec taskset -c $SERVER_CPU setpriv --reuid=ejabberd \
            --regid=ejabberd --init-groups ejabberdctl -d "$d" \
            -f "$d/ejabberd.yml" -s "$d/spool" -l "$d/logs" foreground
    ) >>"$d/ejabberd.out" 2>&1 &
    launcher_pid=$!
    server_pid=$launcher_pid # until the VM is found
    wait_port $ejabberd_port "$launcher_pid" "$d/logs/ejabberd.log" ||
        return 1
    # ejabberdctl runs erl as a child (and, before, a short-lived erl of its
    # own): the server is the beam.smp below it once the port is open.
    server_pid=$(beam_below "$launcher_pid")
    if [ -z "$server_pid" ] || [ "$(wc -w <<<"$server_pid")" -ne 1 ]; then
        log "ejabberd: cannot tell its beam.smp under $launcher_pid"
        server_pid=$launcher_pid
        return 1
    fi
    if [ ! -f "$d/accounts-done" ]; then
        ejabberd_accounts && touch "$d/accounts-done"
    fi
}

# The beam.smp process among the descendants of $1 (from /proc/*/stat:
# comm, then state and parent after the last ')').
beam_below() {
    awk -v top="$1" '
        { line = $0; sub(/.*\) /, "", line); split(line, f, " ")
          pid = FILENAME; gsub(/[^0-9]/, "", pid)
          parent[pid] = f[2]
          c = $0; sub(/^[0-9]+ \(/, "", c); sub(/\) .*/, "", c); comm[pid] = c }
        END { for (p in comm) {
                if (comm[p] != "beam.smp") continue
                for (q = parent[p]; q != "" && q > 1; q = parent[q])
                    if (q == top) { print p; exit } } }
    ' /proc/[0-9]*/stat 2>/dev/null || true
}

# One hidden Erlang node registers every account by RPC (not one ejabberdctl,
# hence one VM, per account).
ejabberd_accounts() {
    log "ejabberd: creating $users accounts"
    HOME=$BENCH_DIR/ejabberd erl -sname "xdreg$$@localhost" -hidden \
        -setcookie "$ejabberd_cookie" -start_epmd false \
        -erl_epmd_port "$ejabberd_dist_port" -dist_listen false -noshell \
        -eval "
        Node = 'xdbench@localhost',
        pong = net_adm:ping(Node),
        R = [rpc:call(Node, ejabberd_auth, try_register,
                      [<<\"user\", (integer_to_binary(I))/binary>>,
                       <<\"$DOMAIN\">>, <<\"$PASSWORD\">>])
             || I <- lists:seq(1, $users)],
        Bad = [X || X <- R, X =/= ok, X =/= {error, exists}],
        io:format(\"ejabberd: ~b accounts, ~b failures ~p~n\",
                  [length(R) - length(Bad), length(Bad), lists:sublist(Bad, 1)]),
        halt(case Bad of [] -> 0; _ -> 1 end)." >&2 ||
        die "ejabberd: account creation failed"
}

# How independent the two cores are: a fixed CPU job on the server's core,
# alone and then with the same job on the generator's core. 1.00 means two
# real cores; more means they share a physical core (hyperthreads, or a
# busy host), so the generator's work slows the server down.
core_sharing() {
    local job='BEGIN { for (i = 0; i < 2e7; i++) x += i; print x > "/dev/null" }'
    local t0 t1 t2 k
    for ((k = 0; k < 3; k++)); do
        t0=$(date +%s.%N)
        taskset -c $SERVER_CPU awk "$job"
        t1=$(date +%s.%N)
        taskset -c $GEN_CPU awk "$job" &
        taskset -c $SERVER_CPU awk "$job"
        t2=$(date +%s.%N)
        wait
        awk -v a="$t0" -v b="$t1" -v c="$t2" \
            'BEGIN { printf "%.2f\n", (c - b) / (b - a) }'
    done | sort -g | sed -n 2p
}

# --- the loads ----------------------------------------------------------------

raw=""

# record SERVER RUN LOAD LINE CPU: keeps one xdbench line plus server CPU.
record() {
    printf '%-8s run=%s %-9s %s server_cpu=%s%%\n' "$1" "$2" "$3" "$4" "$5" |
        tee -a "$raw"
}

field() { # field KEY LINE
    sed -n "s/.* $1=\([^ %]*\).*/\1/p" <<<" $2"
}

# timed SERVER RUN LOAD XDBENCH-ARGS...: one load with the server's CPU use.
timed() {
    local srv=$1 run=$2 load=$3 out c0 c1 t0 t1 k0 k1 scpu m0 m1
    shift 3
    c0=$(server_cpu)
    m0=$([ -n "$muc_pid" ] && proc_cpu "$muc_pid" || echo 0)
    k0=$(core_jiffies $SERVER_CPU)
    t0=$(date +%s.%N)
    if ! out=$(xdbench "$@"); then
        log "$srv: xdbench $load failed (run $run)"
        out="failed"
    fi
    c1=$(server_cpu)
    m1=$([ -n "$muc_pid" ] && proc_cpu "$muc_pid" || echo 0)
    k1=$(core_jiffies $SERVER_CPU)
    t1=$(date +%s.%N)
    scpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" \
        'BEGIN { printf "%.0f", 100 * (b - a) / (e - s) }')
    # What else ran on the server's core: its busy time minus the server's.
    out="$out core${SERVER_CPU}_others=$(awk -v k0="$k0" -v k1="$k1" -v s="$scpu" '
        BEGIN { split(k0, a, " "); split(k1, b, " ")
                o = 100 * (b[1] - a[1]) / (b[2] - a[2] + 1e-9) - s
                printf "%.0f", o < 0 ? 0 : o }')%"
    # server_cpu covers xmppd and xmppd-muc together; this is the latter.
    if [ -n "$muc_pid" ]; then
        out="$out muc_cpu=$(awk -v a="$m0" -v b="$m1" -v s="$t0" -v e="$t1" \
            'BEGIN { printf "%.0f", 100 * (b - a) / (e - s) }')%"
    fi
    record "$srv" "$run" "$load" "$out" "$scpu"
    sleep 1 # let closed connections drain
}

start_or_skip() { # start_or_skip SERVER [muc]
    if ! "${1}_start" "${2:-}"; then
        # Once more: ejabberd's first start on an empty spool has crashed
        # Mnesia while creating its tables (mod_muc's), now and then.
        stop_server
        log "$1: did not start; trying once more"
        if ! "${1}_start" "${2:-}"; then
            stop_server
            log "$1: did not start; its figures will be n/a"
            return 1
        fi
    fi
    sleep 2 # let it settle (the memory figure starts from here)
}

# The seconds a fixed CPU job takes on the server's core: a machine whose
# speed drifts (a shared host) shows here.
calibrate() {
    local job='BEGIN { for (i = 0; i < 1e7; i++) x += i; print x > "/dev/null" }'
    local t0 t1
    t0=$(date +%s.%N)
    taskset -c $SERVER_CPU awk "$job"
    t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# run_server SERVER RUN: one run of every load on one server.
run_server() {
    local srv=$1 run=$2 port
    port=$(eval echo "\$${srv}_port")
    log "$srv: run $run of $BENCH_RUNS"
    printf '%-8s run=%s %-9s calib_s=%s\n' "$srv" "$run" calibrate \
        "$(calibrate)" | tee -a "$raw"
    # A fresh server for the memory figure, and another for the timed
    # loads: a server that has just seen thousands of sessions come and
    # go may be slower afterwards (Prosody was, several times).
    if [ "$BENCH_MUC" != only ]; then
        if start_or_skip "$srv"; then
            timed "$srv" "$run" idle --conns "$BENCH_IDLE_CONNS" \
                --duration "$BENCH_IDLE_HOLD" --pid "$server_pid" idle
            stop_server
        fi
        if start_or_skip "$srv"; then
            timed "$srv" "$run" messages --conns "$BENCH_CONNS" \
                --window "$BENCH_WINDOW" --duration "$BENCH_DURATION" messages
            timed "$srv" "$run" latency --conns "$BENCH_CONNS" \
                --rate "$BENCH_RATE" --duration "$BENCH_DURATION" messages
            timed "$srv" "$run" logins --conns "$BENCH_LOGIN_CONNS" \
                --duration "$BENCH_DURATION" logins
            stop_server
        fi
    fi
    # MUC on a fresh server (xmppd with xmppd-muc): BENCH_MUC_CONNS occupants
    # in one room, a room of its own for each load (xdbench's first occupant
    # creates it).
    if [ "$BENCH_MUC" != 0 ] && start_or_skip "$srv" muc; then
        timed "$srv" "$run" muc --conns "$BENCH_MUC_CONNS" \
            --room "$MUC_ROOM@$MUC_DOMAIN" \
            --senders "$BENCH_MUC_SENDERS" --window "$BENCH_MUC_WINDOW" \
            --duration "$BENCH_DURATION" muc
        timed "$srv" "$run" muclat --conns "$BENCH_MUC_CONNS" \
            --room "$MUC_ROOM-rate@$MUC_DOMAIN" \
            --senders "$BENCH_MUC_SENDERS" --rate "$BENCH_MUC_RATE" \
            --duration "$BENCH_DURATION" muc
        stop_server
    fi
}

# --- the table ----------------------------------------------------------------

# median SERVER LOAD KEY: the median of KEY over the runs ("" if none).
median() {
    values "$@" | awk '
        { v[NR] = $1 }
        END { if (NR == 0) exit
              if (NR % 2) print v[(NR + 1) / 2]
              else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# values SERVER LOAD KEY: the numbers of KEY over the runs, sorted.
values() {
    local line
    { grep -E "^$1 +run=[0-9]+ $2 " "$raw" || true; } | while read -r line; do
        field "$3" "$line"
    done | { grep -E '^-?[0-9.]+$' || true; } | sort -g
}

# maximum SERVER LOAD KEY over the runs.
maximum() {
    values "$@" | tail -1
}

fmt() { # a number for the table
    [ -z "$1" ] && {
        echo "n/a"
        return
    }
    awk -v x="$1" 'BEGIN { if (x >= 100) printf "%.0f", x;
                           else if (x >= 10) printf "%.1f", x;
                           else printf "%.2f", x }'
}

fmt_or_na() { # a value as it is, or n/a
    echo "${1:-n/a}"
}

ratio() {
    if [ -z "$1" ] || [ -z "$2" ] || [ "$(awk -v y="$2" 'BEGIN { print (y == 0) }')" = 1 ]; then
        echo "n/a"
    else
        awk -v x="$1" -v y="$2" 'BEGIN { printf "%.2f", x / y }'
    fi
}

# cell SERVER LOAD KEY: the median, marked when the generator was saturated,
# the server's core was shared, or (latency load) the offered rate was not
# delivered.
cell() {
    local v g o mark=""
    v=$(median "$1" "$2" "$3")
    g=$(maximum "$1" "$2" bench_cpu)
    if [ -n "$g" ] && [ "${g%.*}" -ge $GEN_CPU_FLAG ]; then
        mark=" ⚠gen ${g}%"
    fi
    o=$(maximum "$1" "$2" "core${SERVER_CPU}_others")
    if [ -n "$o" ] && [ "${o%.*}" -ge $OTHERS_FLAG ]; then
        mark="$mark ⚠busy ${o}%"
    fi
    if { [ "$2" = latency ] || [ "$2" = muclat ]; } && [ -n "$v" ]; then
        local got offered=$BENCH_RATE
        [ "$2" = muclat ] && offered=$((BENCH_MUC_RATE * BENCH_MUC_CONNS))
        got=$(median "$1" "$2" per_s)
        if [ -n "$got" ] && awk -v g="$got" -v r="$offered" \
            'BEGIN { exit !(g < 0.95 * r) }'; then
            mark="$mark ⚠only $(fmt "$got")/s"
        fi
    fi
    echo "$(fmt "$v")$mark"
}

row() { # row LABEL LOAD KEY [noratio]
    local x p e rp re
    x=$(median xmppd "$2" "$3")
    p=$(median prosody "$2" "$3")
    e=$(median ejabberd "$2" "$3")
    rp=$(ratio "$x" "$p")
    re=$(ratio "$x" "$e")
    if [ "${4:-}" = noratio ]; then
        rp="—"
        re="—"
    fi
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(cell xmppd "$2" "$3")" \
        "$(cell prosody "$2" "$3")" "$(cell ejabberd "$2" "$3")" "$rp" "$re"
}

table() {
    local rev
    rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo "?")
    git -C "$top" diff --quiet HEAD 2>/dev/null || rev="$rev (with local changes)"
    cat <<HEAD
## xmppd, Prosody and ejabberd side by side

$(date -u +"%Y-%m-%d %H:%M UTC"), $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), Debian $(cat /etc/debian_version).
xmppd $rev; Prosody $(dpkg-query -W -f='${Version}' prosody 2>/dev/null) (libevent);
ejabberd $(dpkg-query -W -f='${Version}' ejabberd 2>/dev/null) (one scheduler, +S 1:1).
Server on core $SERVER_CPU, xdbench on core $GEN_CPU; plaintext c2s on loopback, SASL
SCRAM-SHA-1 with $BENCH_ITERATIONS iterations on all three (as seen by xdbench: $(
        for s in $BENCH_SERVERS; do
            printf '%s %s; ' "$s" "$(fmt_or_na "$(maximum "$s" idle scram_i || true)")"
        done | sed 's/; $//')), no rate limits.
Median of $BENCH_RUNS run(s) of ${BENCH_DURATION} s per load. Core independence: a CPU job on
core $SERVER_CPU took ${sharing}x as long with another one on core $GEN_CPU (1.00: two real cores;
more: they share hardware, so the generator's work also slows the server).
Load average at the start: ${loadavg}.
Message archive: $(
        [ "$BENCH_MAM" = 1 ] && echo "every server archives every message (xmppd archive_default = always, mod_mam on the others)" ||
            echo "off on all three (xmppd archive_default = never; BENCH_MAM=1 turns it on everywhere)").

| metric | xmppd | Prosody | ejabberd | xmppd/Prosody | xmppd/ejabberd |
|---|---|---|---|---|---|
HEAD
    local rows muc_offered=$((BENCH_MUC_RATE * BENCH_MUC_CONNS))
    rows=$(
        if [ "$BENCH_MUC" != only ]; then
            row "messages delivered/s, closed loop ($BENCH_CONNS conns, window $BENCH_WINDOW)" \
                messages per_s
            row "latency p50 ms at $BENCH_RATE msg/s (lower is better)" latency p50_ms
            row "latency p99 ms at $BENCH_RATE msg/s (lower is better)" latency p99_ms
            row "delivered/s at $BENCH_RATE msg/s offered" latency per_s
            row "KiB per idle connection ($BENCH_IDLE_CONNS conns, RSS; lower is better)" \
                idle per_conn_kib
            row "logins/s ($BENCH_LOGIN_CONNS conns, SCRAM + bind + close)" logins per_s
            row "server CPU % during the closed loop (of one core)" messages \
                server_cpu noratio
        fi
        if [ "$BENCH_MUC" != 0 ]; then
            row "MUC deliveries/s, closed loop (1 room, $BENCH_MUC_CONNS occupants, $BENCH_MUC_SENDERS senders, window $BENCH_MUC_WINDOW)" \
                muc per_s
            row "MUC latency p50 ms, closed loop (lower is better)" muc p50_ms
            row "MUC latency p99 ms, closed loop (lower is better)" muc p99_ms
            row "MUC latency p50 ms at $BENCH_MUC_RATE msg/s = $muc_offered deliveries/s (lower is better)" \
                muclat p50_ms
            row "MUC latency p99 ms at $BENCH_MUC_RATE msg/s = $muc_offered deliveries/s (lower is better)" \
                muclat p99_ms
            row "MUC deliveries/s at $muc_offered/s offered" muclat per_s
            row "server CPU % during the MUC closed loop (of one core)" muc \
                server_cpu noratio
        fi
        row "seconds of a fixed CPU job on core $SERVER_CPU before the runs (drift check)" \
            calibrate calib_s noratio
    )
    echo "$rows"
    if grep -q "⚠" <<<"$rows"; then
        cat <<NOTE

⚠gen N%: xdbench used N % of its core in at least one run: the figure may
be the generator's limit, not the server's. ⚠busy N%: other processes used
N % of the server's core during at least one run (the machine was not
quiet): the figure is probably low. ⚠only N/s: the server did not keep up
with the offered rate, so the latencies include queueing.
NOTE
    fi
    if [ "$BENCH_MUC" != 0 ]; then
        cat <<NOTE

MUC: one room of $BENCH_MUC_CONNS occupants (each joined without history, the
first one created it), $BENCH_MUC_SENDERS of them sending groupchat messages; a
delivery is one occupant receiving one message (the sender's own echo
included), so one message is $BENCH_MUC_CONNS deliveries. Closed loop: each
sender keeps $BENCH_MUC_WINDOW messages in flight, a message being in flight until
every occupant has it. xmppd's figures are xmppd and xmppd-muc together on
core $SERVER_CPU (server CPU is the sum of both). No history, archive or rate
limit on any of the three.
NOTE
    fi
}

# --- main -----------------------------------------------------------------------

# All in one function, so that bash has read the whole file before it runs
# anything (editing the script during a run cannot then break the run).
main() {
    mkdir -p "$BENCH_DIR"
    chmod 755 "$BENCH_DIR"
    raw=$BENCH_DIR/raw.txt
    : >"$raw"
    loadavg=$(cut -d' ' -f1-3 /proc/loadavg)
    install_missing
    build
    for s in $BENCH_SERVERS; do
        case $s in
        xmppd | prosody | ejabberd) ;;
        *) die "unknown server '$s' in BENCH_SERVERS" ;;
        esac
        port=$(eval echo "\$${s}_port")
        if port_open "$port"; then die "port $port is already in use"; fi
    done
    if [ "$BENCH_MUC" != 0 ] && port_open "$xmppd_component_port" &&
        [[ " $BENCH_SERVERS " == *" xmppd "* ]]; then
        die "port $xmppd_component_port is already in use"
    fi
    log "scratch folder $BENCH_DIR; $BENCH_RUNS run(s), ${BENCH_DURATION} s per load"
    sharing=$(core_sharing)
    log "core sharing: a job on core $SERVER_CPU takes ${sharing}x as long with another on core $GEN_CPU"
    for s in $BENCH_SERVERS; do
        log "$s: setting up in $BENCH_DIR/$s"
        "${s}_setup"
    done
    # Runs outside, servers inside: if the machine's speed drifts, it drifts
    # for all three alike.
    for ((r = 1; r <= BENCH_RUNS; r++)); do
        for s in $BENCH_SERVERS; do
            run_server "$s" "$r"
        done
    done

    echo
    echo "Raw runs ($raw):"
    cat "$raw"
    echo
    table | tee "$BENCH_DIR/results.md"
    echo
    echo "(table written to $BENCH_DIR/results.md)"
}

main "$@"
exit $?
