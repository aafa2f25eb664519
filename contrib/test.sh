#!/bin/sh
# `make test`: a normal build and an AddressSanitizer+UndefinedBehaviorSanitizer
# build (clang, with the libFuzzer targets), each with every test; then one
# line counting both runs.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
JOBS=${JOBS:-2}
status=0
passed=0
failed=0

suite() {
    dir=$1
    shift
    echo "== $dir: configure and build"
    if ! cmake -S . -B "$dir" "$@" >"$dir/configure.log" 2>&1; then
        cat "$dir/configure.log"
        return 1
    fi
    cmake --build "$dir" -j"$JOBS" || return 1
    echo "== $dir: ctest"
    (cd "$dir" && ctest --output-on-failure -j"$JOBS") | tee "$dir/ctest.log"
    rc=0
    # "100% tests passed, 0 tests failed out of 42"
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$dir/ctest.log" | tail -1)
    total=$(echo "$line" | sed -E 's/.*out of ([0-9]+).*/\1/')
    bad=$(echo "$line" | sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/')
    if [ -n "$total" ] && [ -n "$bad" ]; then
        passed=$((passed + total - bad))
        failed=$((failed + bad))
        [ "$bad" -eq 0 ] || rc=1
    else
        failed=$((failed + 1))
        rc=1
    fi
    return $rc
}

mkdir -p "$BUILD" "$ASAN_BUILD"
suite "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
suite "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DXD_SANITIZE=ON -DXD_FUZZ=ON || status=1

echo "$passed passed, $failed failed"
exit $status
