# Thin wrapper over CMake. `make demo` and `make test` work on a fresh
# Debian 12 machine: they install what is missing, configure, build, run.
BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
CTEST_FLAGS ?= --output-on-failure
FUZZ_SECONDS ?= 60

.PHONY: all deps configure build demo test test-sanitize bench fuzz format format-check clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	./$(BUILD)/kinfer demo

test: build
	cd $(BUILD) && ctest $(CTEST_FLAGS) -j $(JOBS)

# Unit + integration tests once more under ASan/UBSan (CUDA off: the
# sanitizers cover our host code, and nvcc does not take -fsanitize).
test-sanitize:
	@bash scripts/install-deps.sh
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DKINFER_SANITIZE=ON -DKINFER_CUDA=OFF $(CMAKE_FLAGS)
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest $(CTEST_FLAGS) -j $(JOBS) -L 'unit|integration'

bench: build
	bash scripts/bench.sh $(BUILD)

# libFuzzer targets, built with clang, each run for FUZZ_SECONDS.
fuzz:
	@bash scripts/install-deps.sh
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DKINFER_FUZZ=ON -DKINFER_CUDA=OFF
	cmake --build build-fuzz -j $(JOBS)
	bash scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h' '*.cu')

# Fails when a tracked source file differs from .clang-format's layout.
format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' '*.cu')

clean:
	rm -rf $(BUILD) build-asan build-fuzz
