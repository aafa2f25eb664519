#!/bin/sh
# contrib/fuzz.sh [-t SECONDS] [-z] [TARGET...]: fuzzing campaigns longer
# than `make test`'s few seconds per target.
#
# Builds the libFuzzer targets if they are not built (clang; by default the
# AddressSanitizer+UndefinedBehaviorSanitizer build, $ASAN_BUILD, or with -z
# the build without sanitizers that keeps expat's zone allocator,
# $ZONE_BUILD), then runs each TARGET (c2s, sasl, xml_parser... : the names
# of tests/fuzz/fuzz_*.c; default all of them) for SECONDS (default 600),
# one after the other. Each target's corpus grows in
# tests/fuzz/corpus-run/<target>/ (git-ignored), starting from
# tests/fuzz/seeds-<target>/; inputs that crash go to
# tests/fuzz/corpus-run/crashes/. FUZZ_FORK=N runs N fuzzing processes per
# target (libFuzzer's -fork). Exit status 1 if any target failed.
set -u
cd "$(dirname "$0")/.." || exit 1
ASAN_BUILD=${ASAN_BUILD:-build-asan}
ZONE_BUILD=${ZONE_BUILD:-build-fuzz}
JOBS=${JOBS:-2}
seconds=600
zone=0

while getopts t:z opt; do
    case $opt in
    t) seconds=$OPTARG ;;
    z) zone=1 ;;
    *)
        echo "usage: $0 [-t SECONDS] [-z] [TARGET...]" >&2
        exit 2
        ;;
    esac
done
shift $((OPTIND - 1))

if [ $# -eq 0 ]; then
    for src in tests/fuzz/fuzz_*.c; do
        what=${src#tests/fuzz/fuzz_}
        set -- "$@" "${what%.c}"
    done
fi
for what in "$@"; do
    if [ ! -f "tests/fuzz/fuzz_$what.c" ]; then
        echo "$0: no target '$what' (tests/fuzz/fuzz_$what.c)" >&2
        exit 2
    fi
done

if [ $zone -eq 1 ]; then
    dir=$ZONE_BUILD
    set_build="-DCMAKE_BUILD_TYPE=RelWithDebInfo"
else
    dir=$ASAN_BUILD
    set_build="-DCMAKE_BUILD_TYPE=Debug -DXD_SANITIZE=ON"
fi
targets=""
for what in "$@"; do
    targets="$targets fuzz_$what"
done
if ! grep -q "^XD_FUZZ:BOOL=ON" "$dir/CMakeCache.txt" 2>/dev/null; then
    mkdir -p "$dir"
    # shellcheck disable=SC2086 # set_build is two words
    cmake -S . -B "$dir" $set_build -DCMAKE_C_COMPILER=clang -DXD_FUZZ=ON \
        >"$dir/configure.log" 2>&1 || {
        cat "$dir/configure.log"
        exit 1
    }
fi
# shellcheck disable=SC2086 # one word per target
cmake --build "$dir" -j"$JOBS" --target $targets || exit 1

corpora=tests/fuzz/corpus-run
mkdir -p "$corpora/crashes"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=64}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Without ASan, freed memory is filled with a pattern: a use after free
# shows as a broken invariant.
GLIBC_TUNABLES=${GLIBC_TUNABLES:-glibc.malloc.perturb=165}
export ASAN_OPTIONS UBSAN_OPTIONS GLIBC_TUNABLES
fork=""
[ -n "${FUZZ_FORK:-}" ] && fork="-fork=$FUZZ_FORK -ignore_crashes=1"
status=0
for what in "$@"; do
    mkdir -p "$corpora/$what"
    echo "== fuzz_$what: $seconds s ($dir)"
    # shellcheck disable=SC2086 # fork is empty or two options
    "$dir/tests/fuzz_$what" -max_total_time="$seconds" -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$corpora/crashes/$what-" \
        $fork "$corpora/$what" "tests/fuzz/seeds-$what" ||
        status=1
done
[ $status -eq 0 ] || echo "crashes kept in $corpora/crashes/" >&2
exit $status
