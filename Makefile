# The README's two commands: `make run` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= 2
# What `make run` starts: it builds these and not the tests or benchmarks.
# (Targets rather than a CMake option, so that the build folder `make test`
# shares keeps its tests configured.)
PROGRAMS   = xmppd xmppdctl xmppd-echo xmppd-muc

.PHONY: all build programs run test deps clean format

all: build

build:
	contrib/deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS)

programs:
	contrib/deps.sh build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j$(JOBS) --target $(PROGRAMS)

run: programs
	BUILD=$(BUILD) contrib/run.sh

test:
	contrib/deps.sh test
	BUILD=$(BUILD) ASAN_BUILD=$(ASAN_BUILD) JOBS=$(JOBS) contrib/test.sh

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
