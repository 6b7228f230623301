# The two commands a user needs: `make demo` and `make test`. Both run the set-up
# script first (it installs missing Debian packages, and does nothing otherwise).

JOBS ?= $(shell nproc)
BUILD ?= build
ASAN_BUILD ?= build-asan
LAUNCHER := $(shell command -v ccache >/dev/null 2>&1 && echo -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
# ccache keys compilations on paths relative to this checkout, so that a fresh clone in another
# folder (CI's) reuses earlier ones: base_dir rewrites the checkout's absolute paths, and the
# build folder is not hashed (debug information may then name an earlier checkout's folder).
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all setup build build-asan demo test unit-test asan-test bench format clean

all: build

setup:
	@scripts/setup.sh

$(BUILD)/build.ninja: | setup
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(LAUNCHER)

$(ASAN_BUILD)/build.ninja: | setup
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DMLOOP_SANITIZE=ON $(LAUNCHER)

build: setup $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: setup $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

demo: build
	scripts/demo.sh $(BUILD)/src/cli/mloop

unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan-test: build-asan
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -LE no-sanitizer

test: unit-test asan-test

bench: build
	bench/csv/run $(BUILD)
	bench/ingest/run $(BUILD)
	bench/predict/run $(BUILD)
	bench/train/run $(BUILD)

format:
	clang-format -i $$(git ls-files '*.h' '*.cc')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
