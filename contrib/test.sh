#!/bin/sh
# `make test`: a normal build and an AddressSanitizer+UndefinedBehaviorSanitizer
# build (clang, with the libFuzzer targets), each with every test; then the
# fuzz targets that parse XML once more, briefly, in a clang build without
# sanitizers (see below); then one line counting the three runs.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
ASAN_BUILD=${ASAN_BUILD:-build-asan}
ZONE_BUILD=${ZONE_BUILD:-build-fuzz}
JOBS=${JOBS:-2}
status=0
passed=0
failed=0

# suite DIR CMAKE-ARGS...: configures, builds $TARGETS (empty: all) and
# runs the tests matching $TESTS (empty: all).
suite() {
    dir=$1
    shift
    echo "== $dir: configure and build"
    # A suite that does not build counts as one failure in the closing line.
    if ! cmake -S . -B "$dir" "$@" >"$dir/configure.log" 2>&1; then
        cat "$dir/configure.log"
        failed=$((failed + 1))
        return 1
    fi
    # shellcheck disable=SC2086 # one word per target
    if ! cmake --build "$dir" -j"$JOBS" ${TARGETS:+--target $TARGETS}; then
        failed=$((failed + 1))
        return 1
    fi
    echo "== $dir: ctest"
    (cd "$dir" && ctest --output-on-failure -j"$JOBS" ${TESTS:+-R "$TESTS"}) |
        tee "$dir/ctest.log"
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

mkdir -p "$BUILD" "$ASAN_BUILD" "$ZONE_BUILD"
TARGETS=""
TESTS=""
suite "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS
suite "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DXD_SANITIZE=ON -DXD_FUZZ=ON || status=1

# Under AddressSanitizer expat gets each block from malloc, so that ASan
# sees an overrun of one (xml_parser.c); production serves expat from a
# per-parser zone instead. The targets that feed the parser run again,
# 6 s each, built without sanitizers: the zone's bookkeeping is what the
# inputs exercise, and a mistake in it shows as a parse that differs, an
# invariant that breaks, or glibc refusing a free (perturbed freed memory
# makes a use after free show too).
TARGETS="fuzz_xml_parser fuzz_c2s fuzz_component_link fuzz_component"
TESTS='^fuzz\.(xml_parser|c2s|component_link|component)$'
suite "$ZONE_BUILD" \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DXD_FUZZ=ON \
    -DXD_SANITIZE=OFF -DXD_FUZZ_SECONDS=6 || status=1

echo "$passed passed, $failed failed"
exit $status
