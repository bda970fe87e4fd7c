# Thin wrapper over CMake; see README.md.
#   make        deps (if missing) + build/assay
#   make asan   the ASan+UBSan build in build-asan/
#   make check  every test, on both builds, then a fuzz smoke run
#   make demo   the open suite against the baselines, with the report
#   make lint   cppcheck and clang-tidy over src/ at zero findings
#   make ui-screenshots  docs/ui/*.png: the main pages, taken by the browser tests
#   make agent-image  the security-tooling agent image (mmdebstrap, offline
#               from Debian's packages), imported as `assay-agent`; the OCI
#               layout is kept in build/agent-image and rebuilt only when
#               its recipe or package list changes
#   make agent-image-test  the small test variant of the same recipe that
#               `make check` builds once (build/agent-image-test) and imports
#               into the tests' image store (build/test-images)
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)

.PHONY: all deps web-deps asan check test demo fuzz bench lint clean ui-screenshots agent-image agent-image-test

all: deps
	@[ -f $(BUILD)/Makefile ] || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Installs only what is missing (a quick dpkg query when nothing is).
deps:
	@tools/deps.sh

asan: deps
	@[ -f $(ASAN_BUILD)/Makefile ] || cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DASSAY_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

fuzz: deps
	@[ -f $(FUZZ_BUILD)/Makefile ] || CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DASSAY_FUZZ=ON -DASSAY_TESTS=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# npm trees of the browser tests, as their lockfiles pin them: puppeteer-core
# (tests/web) and Inspect's log viewer with esbuild (tests/viewer)
web-deps: deps
	@tools/web-deps.sh

# Both passes share one image store: the agent image is unpacked once.
TEST_IMAGES = ASSAY_AGENT_OCI=$(CURDIR)/$(BUILD)/agent-image-test/oci \
	ASSAY_TEST_IMAGES=$(CURDIR)/$(BUILD)/test-images

check: all asan fuzz web-deps agent-image-test
	$(TEST_IMAGES) tests/run.sh $(BUILD)
	$(TEST_IMAGES) tests/run.sh $(ASAN_BUILD) --sanitizer
	tests/fuzz-smoke.sh $(FUZZ_BUILD)
	@tests/summary.sh

test: check

# The open suite's pwn tasks run on the agent image: built (once, cached)
# and imported into the default image store on the way.
demo: all agent-image
	tools/demo.sh $(BUILD)

program-demo: all agent-image
	tools/program-demo.py $(BUILD)

# Walks the pages in Chromium (tests/integration/web.sh) and keeps the
# screenshots of the main ones in docs/ui/.
ui-screenshots: all web-deps
	tools/ui-screenshots.sh $(BUILD)

lint: deps
	tools/lint.sh

bench: all
	bench/sandbox.sh $(BUILD)
	bench/engine.sh $(BUILD)
	$(BUILD)/bench_stats

agent-image: all
	ASSAY=$(BUILD)/assay tools/agent-image.sh $(BUILD)/agent-image

agent-image-test: all
	ASSAY=$(BUILD)/assay tools/agent-image.sh --variant test --no-import $(BUILD)/agent-image-test

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) build-lint
