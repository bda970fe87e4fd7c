# Thin wrapper over CMake. `make` builds build/assay; see README.md.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
STAMP      := .deps-ok

.PHONY: all asan check test unit integration demo fuzz bench clean deps

all: $(BUILD)/assay

$(STAMP): tools/deps.sh
	tools/deps.sh
	@touch $@

deps:
	tools/deps.sh
	@touch $(STAMP)

$(BUILD)/Makefile: CMakeLists.txt | $(STAMP)
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

$(BUILD)/assay: $(STAMP) $(BUILD)/Makefile FORCE
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/Makefile: CMakeLists.txt | $(STAMP)
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DASSAY_SANITIZE=ON >/dev/null

asan: $(STAMP) $(ASAN_BUILD)/Makefile
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Every test: unit tests and integration tests on the normal build, then the
# same again on the sanitizer build, then a short fuzz smoke run.
check: all asan
	tests/run.sh $(BUILD)
	ASAN_OPTIONS=detect_leaks=1 tests/run.sh $(ASAN_BUILD) --sanitizer
	$(MAKE) fuzz
	tests/fuzz-smoke.sh $(FUZZ_BUILD)

test: check

demo: all
	tools/demo.sh $(BUILD)

fuzz: $(STAMP)
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DASSAY_FUZZ=ON -DASSAY_TESTS=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

bench: all
	bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

FORCE:
