# SPDX-License-Identifier: Apache-2.0
# fs38 — top-level entry points. Each target installs what it needs (scripts/deps) first.
#   make demo    the reference device's lifecycle, step by step
#   make test    build and run every test (CTest)
#   make asan    the same suite under AddressSanitizer + UndefinedBehaviorSanitizer
#   make bench   benchmarks (ratios against in-run baselines)
#   make fuzz    build the libFuzzer targets (clang-14) and run each for FUZZ_SECONDS
#   make size    flash / RAM / measured stack of the linked Cortex-M4 images (make m4), per module
#   make m4      the Cortex-M4 port: fs38-boot.elf + fs38-app.elf (mps2-an386), two signed app versions
#   make m4-test the M4 scenarios under qemu-system-arm
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
FUZZ_SECONDS ?= 30
CMAKE_FLAGS ?=

.PHONY: all deps build test asan demo bench fuzz size clean

all: build

deps:
	@scripts/deps --mbedtls-dir $(CURDIR)/build/deps/mbedtls --libcoap-dir $(CURDIR)/build/libcoap

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DFS38_MBEDTLS_SRC=$(CURDIR)/build/deps/mbedtls $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

asan: deps
	@$(MAKE) --no-print-directory test BUILD=build-asan BUILD_TYPE=Debug CMAKE_FLAGS="-DFS38_SANITIZE=ON"

demo: build
	@scripts/demo.sh $(BUILD)

bench: deps
	@$(MAKE) --no-print-directory build BUILD=build-bench BUILD_TYPE=Release
	@scripts/bench.sh build-bench

fuzz: deps
	@scripts/fuzz.sh build-fuzz $(FUZZ_SECONDS)

size: m4
	@scripts/size.sh $(M4)

include port/cortex-m/m4.mk

clean:
	rm -rf build/CMakeFiles build/CMakeCache.txt build-asan build-bench build-fuzz build-size build-m4
