# Thin wrapper over meson: the README's entry points.
#   make        set up what is missing, build everything into build/
#   make test   everything needed, then every test suite (also ASan/UBSan and fuzz smoke)
#   make run    the main job
BUILD      ?= build
SAN_BUILD  ?= build-asan
FUZZ_BUILD ?= build-fuzz
MESON_ARGS ?=
export PKG_CONFIG_PATH := $(CURDIR)/.deps/prefix/lib/pkgconfig

ifeq ($(CI),true)
# CI never falls back to a glibc guest agent silently.
MESON_ARGS += -Dwerror=true -Dguest_libc=musl
endif

.PHONY: all setup build test test-main test-sanitize test-fuzz run image bench clean format

all: build

setup:
	@bash scripts/setup.sh build

setup-test:
	@bash scripts/setup.sh all

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_ARGS)

build: setup $(BUILD)/build.ninja
	ninja -C $(BUILD)

# Every suite of the main build, then the sanitizer build's unit and integration suites,
# then a short fuzz run; one summary line at the end counts them all.
test: setup-test
	@rm -f $(BUILD)/meson-logs/testlog.json $(SAN_BUILD)/meson-logs/testlog.json \
	       $(FUZZ_BUILD)/fuzz-summary.txt; \
	status=0; \
	$(MAKE) --no-print-directory test-main || status=1; \
	$(MAKE) --no-print-directory test-sanitize || status=1; \
	$(MAKE) --no-print-directory test-fuzz || status=1; \
	bash tests/summary.sh $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD) || status=1; \
	exit $$status

test-main: build
	meson test -C $(BUILD) --print-errorlogs

$(SAN_BUILD)/build.ninja:
	meson setup $(SAN_BUILD) $(MESON_ARGS) -Dstatic=false -Dbuildtype=debug \
		-Db_sanitize=address,undefined -Db_lundef=false

test-sanitize: setup $(SAN_BUILD)/build.ninja
	ninja -C $(SAN_BUILD)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson test -C $(SAN_BUILD) --print-errorlogs --suite unit --suite integration

$(FUZZ_BUILD)/build.ninja:
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true -Dstatic=false -Dtests=false \
		-Dbuildtype=debug

test-fuzz: setup $(FUZZ_BUILD)/build.ninja
	ninja -C $(FUZZ_BUILD)
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $${FUZZ_SECONDS:-20}

# The main job: image, VM, and a Kata runtime's calls against the agent inside it.
run: setup-test build
	bash tools/vm/ember-vm-demo $(BUILD)

image: build
	bash rootfs-builder/build-image.sh --build-dir $(BUILD) -o $(BUILD)/ember-initrd.img

bench: setup-test build
	bash bench/run.sh $(BUILD)
	bash bench/container.sh $(BUILD)
	bash bench/size.sh $(BUILD)

format:
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
