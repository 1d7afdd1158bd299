# SPDX-License-Identifier: Apache-2.0
# m4.mk — the Cortex-M4 port's build (included by the top-level Makefile): `make m4` builds
# fs38-boot.elf and the application linked for slot A (version 1) and slot B (version 2), with
# their own Mbed TLS objects (port/cortex-m/fs38_m4_mbedtls_{boot,app}.h), and signs the two
# application versions with the host's `fs38 sign` (v2 also encrypted for the device).
M4 ?= build-m4
M4_CC ?= arm-none-eabi-gcc
M4_OBJCOPY ?= arm-none-eabi-objcopy
M4_AR ?= arm-none-eabi-gcc-ar
M4_MBED := build/deps/mbedtls
M4_P256 := $(M4_MBED)/3rdparty/p256-m
M4_FS38 := $(BUILD)/tools/fs38
M4_VENDOR := fa6b4a53-d5ad-5fdf-be9d-e663e4d41ffe
M4_CLASS := 1492af14-2569-5e48-bf42-9b2d51f2ab45

M4_ARCH := -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
M4_CFLAGS := $(M4_ARCH) -Os -g -std=c11 -ffunction-sections -fdata-sections -fno-common \
  -Wall -Wextra -Werror -Wno-unused-parameter
# M4_LTO=1 (default): link-time optimisation of each image (libfs38 + Mbed TLS + the port as one
# program: single-use functions inlined, unused parameters and paths dropped). The objects are
# "fat" (LTO code and ordinary code), so the *-modules.elf companions are linked from the same
# objects without LTO: their map files give `make size` its per-module table.
M4_LTO ?= 1
ifeq ($(M4_LTO),1)
M4_CFLAGS += -flto -ffat-lto-objects
M4_LTO_LINK := -flto -flto-partition=one -Os
endif
M4_FS38_WARN := -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wconversion -Wno-sign-conversion
M4_INC = -I$(M4)/gen-rom -Iinclude -Isrc -Iport/cortex-m -I$(M4_MBED)/include -I$(M4_MBED)/library \
  -I$(M4_P256) -I$(M4_P256)/p256-m

M4_MBED_SRCS := $(wildcard $(M4_MBED)/library/*.c) $(M4_P256)/p256-m_driver_entrypoints.c $(M4_P256)/p256-m/p256-m.c
M4_BOOT_SRCS := $(wildcard src/core/*.c src/codec/*.c) src/boot/boot.c src/boot/bootstate.c src/boot/suit.c
M4_APP_SRCS := $(M4_BOOT_SRCS) src/boot/update.c src/boot/decrypt.c src/storage/store.c src/log/log.c \
  src/log/log_format.c
M4_PORT_SRCS := port/cortex-m/m4_rt.c port/cortex-m/m4_port.c

# $(call m4_objs,variant,sources)
m4_objs = $(patsubst %.c,$(M4)/$(1)/%.o,$(notdir $(2)))

.PHONY: m4 m4-test m4-bench
m4: $(M4)/fs38-boot.elf $(M4)/fs38-app.elf $(M4)/fs38-app-v2.elf $(M4)/fs38-boot-bench.elf \
    $(M4)/app-v1.suit $(M4)/app-v2.suit $(M4)/app-v2-enc.suit

# fs38/config.h per image: FS38_DIAG_TEXT, FS38_SUIT_VERIFY_ONLY, FS38_BOOT_MAPPED (the footprint
# profile, include/fs38/config.h.in): the bootloader without diagnostic text, verify-only SUIT,
# slots read in place; the application the full SUIT processor (it installs) without diagnostic
# text, its envelope parsed in place (0 0 1). M4_BOOT_PROFILE="1 0 0" builds a bootloader with the
# full library (for comparison); M4_APP_PROFILE="1 0 0" an application whose rejections and log
# records carry the library's one-line messages (m4-test expects those lines from it).
M4_BOOT_PROFILE ?= 0 1 1
# M4_BOOT_REASON_TEXT=1: the bootloader prints refusals with fs38_strerror() (the library's text
# table, 2.2 KB) instead of the codes' short names (m4_boot_main.c); part of the boot profile file
M4_BOOT_REASON_TEXT ?= 0
M4_REASON_TEXT_boot = $(M4_BOOT_REASON_TEXT)
M4_REASON_TEXT_app = $(firstword $(M4_APP_PROFILE))
M4_PROFILE_boot = $(M4_BOOT_PROFILE) $(M4_BOOT_REASON_TEXT) lto=$(M4_LTO)
M4_APP_PROFILE ?= 0 0 1
M4_PROFILE_app = $(M4_APP_PROFILE) lto=$(M4_LTO)
$(M4)/gen-%/fs38/config.h: include/fs38/config.h.in CMakeLists.txt $(M4)/profile-%.txt
	@mkdir -p $(dir $@)
	@set -- $$(cat $(M4)/profile-$*.txt); \
	 v=$$(sed -n 's/^project(fs38 VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt); a=$$(echo $$v | cut -d. -f1); b=$$(echo $$v | cut -d. -f2); c=$$(echo $$v | cut -d. -f3); \
	 sed -e "s/@PROJECT_VERSION_MAJOR@/$$a/" -e "s/@PROJECT_VERSION_MINOR@/$$b/" -e "s/@PROJECT_VERSION_PATCH@/$$c/" \
	     -e "s/@PROJECT_VERSION@/$$v/" -e "s/@FS38_UPDATE_CHUNK@/512/" -e "s/@FS38_DIAG_TEXT@/$$1/" \
	     -e "s/@FS38_SUIT_VERIFY_ONLY@/$$2/" -e "s/@FS38_BOOT_MAPPED@/$$3/" $< > $@
# the profile is a file so that changing it rebuilds what depends on it
$(M4)/profile-%.txt: FORCE
	@mkdir -p $(dir $@)
	@echo "$(M4_PROFILE_$*)" | cmp -s - $@ || echo "$(M4_PROFILE_$*)" > $@
.PHONY: FORCE
.PRECIOUS: $(M4)/gen-%/fs38/config.h $(M4)/profile-%.txt
FORCE:

# keys and the ROM header (trust anchor, identity) the images are built with
$(M4)/keys/vendor.pem: | build
	@mkdir -p $(dir $@)
	@$(M4_FS38) keygen --out $@ --pub $(M4)/keys/vendor.pub >/dev/null
$(M4)/keys/device.pem: | build
	@mkdir -p $(dir $@)
	@$(M4_FS38) keygen --ecdh --out $@ --pub $(M4)/keys/device.pub >/dev/null
$(M4)/gen-rom/m4_rom.h: $(M4)/keys/vendor.pem port/cortex-m/m4-tool.py
	@mkdir -p $(dir $@)
	@python3 port/cortex-m/m4-tool.py rom --pub $(M4)/keys/vendor.pub --vendor-id $(M4_VENDOR) --class-id $(M4_CLASS) --out $@

# one variant: objects of Mbed TLS (with its config), libfs38 and the port
define M4_VARIANT
$(M4)/$(1)/mbed/%.o: $(M4_MBED)/library/%.c port/cortex-m/fs38_m4_mbedtls_$(1).h port/cortex-m/fs38_m4_psa_$(1).h $(M4)/profile-$(1).txt
	@mkdir -p $$(dir $$@)
	@$(M4_CC) $(M4_CFLAGS) -DMBEDTLS_CONFIG_FILE='"fs38_m4_mbedtls_$(1).h"' -I$(M4)/gen-$(1) $(M4_INC) -c $$< -o $$@
$(M4)/$(1)/mbed/%.o: $(M4_P256)/%.c port/cortex-m/fs38_m4_mbedtls_$(1).h $(M4)/profile-$(1).txt
	@mkdir -p $$(dir $$@)
	@$(M4_CC) $(M4_CFLAGS) -DMBEDTLS_CONFIG_FILE='"fs38_m4_mbedtls_$(1).h"' -I$(M4)/gen-$(1) $(M4_INC) -c $$< -o $$@
$(M4)/$(1)/mbed/%.o: $(M4_P256)/p256-m/%.c port/cortex-m/fs38_m4_mbedtls_$(1).h $(M4)/profile-$(1).txt
	@mkdir -p $$(dir $$@)
	@$(M4_CC) $(M4_CFLAGS) -DMBEDTLS_CONFIG_FILE='"fs38_m4_mbedtls_$(1).h"' -I$(M4)/gen-$(1) $(M4_INC) -c $$< -o $$@
$(M4)/$(1)/libmbed.a: $(call m4_objs,$(1)/mbed,$(M4_MBED_SRCS))
	@rm -f $$@ && $(M4_AR) rcs $$@ $$^
$(M4)/$(1)/fs38/%.o: src/*/%.c $(M4)/gen-$(1)/fs38/config.h $(wildcard include/fs38/*.h src/inner.h) port/cortex-m/fs38_m4_mbedtls_$(1).h
	@mkdir -p $$(dir $$@)
	@$(M4_CC) $(M4_CFLAGS) $(M4_FS38_WARN) -fstack-usage -DFS38_ALLOW_PRIVATE_ACCESS -DMBEDTLS_CONFIG_FILE='"fs38_m4_mbedtls_$(1).h"' -I$(M4)/gen-$(1) $(M4_INC) -c $$< -o $$@
$(M4)/$(1)/port/%.o: port/cortex-m/%.c port/cortex-m/fs38_m4.h $(M4)/gen-$(1)/fs38/config.h $(M4)/gen-rom/m4_rom.h $(M4)/profile-$(1).txt
	@mkdir -p $$(dir $$@)
	@$(M4_CC) $(M4_CFLAGS) $(M4_FS38_WARN) -DM4_REASON_TEXT=$$(M4_REASON_TEXT_$(1)) -DMBEDTLS_CONFIG_FILE='"fs38_m4_mbedtls_$(1).h"' -I$(M4)/gen-$(1) $(M4_INC) -c $$< -o $$@
endef
$(eval $(call M4_VARIANT,boot))
$(eval $(call M4_VARIANT,app))

$(M4)/%.ld: port/cortex-m/m4.ld.S
	@mkdir -p $(dir $@)
	@$(M4_CC) -E -P -x c $(M4_LD_$*) $< -o $@
M4_LD_boot := -DROM_ORIGIN=0x00000000 -DROM_LENGTH=0x10000 -DRAM_ORIGIN=0x20000000 -DRAM_LENGTH=0x10000 -DSTACK_SIZE=0x2000 -DHEAP_SIZE=0
M4_LD_app-a := -DROM_ORIGIN=0x00011000 -DROM_LENGTH=0xFF000 -DRAM_ORIGIN=0x20010000 -DRAM_LENGTH=0x30000 -DSTACK_SIZE=0x4000 -DHEAP_SIZE=0x4000
M4_LD_app-b := -DROM_ORIGIN=0x00111000 -DROM_LENGTH=0xFF000 -DRAM_ORIGIN=0x20010000 -DRAM_LENGTH=0x30000 -DSTACK_SIZE=0x4000 -DHEAP_SIZE=0x4000

M4_LDFLAGS := $(M4_ARCH) -nostartfiles --specs=nano.specs -Wl,--gc-sections -Wl,--no-warn-rwx-segments

$(M4)/fs38-boot.elf: $(M4)/boot.ld $(call m4_objs,boot/port,$(M4_PORT_SRCS) port/cortex-m/m4_boot_main.c) \
    $(call m4_objs,boot/fs38,$(M4_BOOT_SRCS)) $(M4)/boot/libmbed.a
	@$(M4_CC) $(M4_LDFLAGS) $(M4_LTO_LINK) -T $< -Wl,-Map,$(@:.elf=.map) -o $@ $(filter %.o,$^) $(M4)/boot/libmbed.a -lc -lgcc
	@$(M4_CC) $(M4_LDFLAGS) -fno-lto -T $< -Wl,-Map,$(@:.elf=-modules.map) -o $(@:.elf=-modules.elf) $(filter %.o,$^) $(M4)/boot/libmbed.a -lc -lgcc
	@echo "m4: $@"

# the boot-time benchmark: the bootloader's objects with m4_bench_main.c as main
$(M4)/fs38-boot-bench.elf: $(M4)/boot.ld $(call m4_objs,boot/port,$(M4_PORT_SRCS) port/cortex-m/m4_bench_main.c) \
    $(call m4_objs,boot/fs38,$(M4_BOOT_SRCS)) $(M4)/boot/libmbed.a
	@$(M4_CC) $(M4_LDFLAGS) $(M4_LTO_LINK) -T $< -o $@ $(filter %.o,$^) $(M4)/boot/libmbed.a -lc -lgcc
	@echo "m4: $@"

$(M4)/app/port/m4_app_main_v%.o: port/cortex-m/m4_app_main.c port/cortex-m/fs38_m4.h $(M4)/gen-app/fs38/config.h $(M4)/gen-rom/m4_rom.h
	@mkdir -p $(dir $@)
	@$(M4_CC) $(M4_CFLAGS) $(M4_FS38_WARN) -DM4_APP_VERSION='"$*"' -DMBEDTLS_CONFIG_FILE='"fs38_m4_mbedtls_app.h"' -I$(M4)/gen-app $(M4_INC) -c $< -o $@
M4_APP_OBJS = $(call m4_objs,app/port,$(M4_PORT_SRCS)) $(call m4_objs,app/fs38,$(M4_APP_SRCS)) $(M4)/app/libmbed.a
$(M4)/fs38-app.elf: $(M4)/app-a.ld $(M4)/app/port/m4_app_main_v1.o $(M4_APP_OBJS)
	@$(M4_CC) $(M4_LDFLAGS) $(M4_LTO_LINK) -T $< -Wl,-Map,$(@:.elf=.map) -o $@ $(filter %.o,$^) $(M4)/app/libmbed.a -lc -lgcc
	@$(M4_CC) $(M4_LDFLAGS) -fno-lto -T $< -Wl,-Map,$(@:.elf=-modules.map) -o $(@:.elf=-modules.elf) $(filter %.o,$^) $(M4)/app/libmbed.a -lc -lgcc
	@echo "m4: $@ (version 1, slot A)"
$(M4)/fs38-app-v2.elf: $(M4)/app-b.ld $(M4)/app/port/m4_app_main_v2.o $(M4_APP_OBJS)
	@$(M4_CC) $(M4_LDFLAGS) $(M4_LTO_LINK) -T $< -Wl,-Map,$(@:.elf=.map) -o $@ $(filter %.o,$^) $(M4)/app/libmbed.a -lc -lgcc
	@echo "m4: $@ (version 2, slot B)"

$(M4)/app-v1.bin: $(M4)/fs38-app.elf
	@$(M4_OBJCOPY) -O binary $< $@
# version 2 carries 256 KiB (code + 0xFF padding, all covered by the image digest): the size the
# boot-time goal is measured with, and large enough for the update's progress records (64 KiB)
$(M4)/app-v2.bin: $(M4)/fs38-app-v2.elf
	@$(M4_OBJCOPY) -O binary --gap-fill 0xff --pad-to 0x151000 $< $@

M4_SIGN = $(M4_FS38) sign --key $(M4)/keys/vendor.pem --vendor-id $(M4_VENDOR) --class-id $(M4_CLASS)
$(M4)/app-v1.suit: $(M4)/app-v1.bin $(M4)/keys/vendor.pem $(M4_FS38)
	@$(M4_SIGN) --image $< --seq 1 --slot A --out $@ >/dev/null && echo "m4: $@ signed (sequence 1, slot A)"
$(M4)/app-v2.suit: $(M4)/app-v2.bin $(M4)/keys/vendor.pem $(M4_FS38)
	@$(M4_SIGN) --image $< --seq 2 --slot B --out $@ >/dev/null && echo "m4: $@ signed (sequence 2, slot B)"
$(M4)/app-v2-enc.suit: $(M4)/app-v2.bin $(M4)/keys/vendor.pem $(M4)/keys/device.pem $(M4_FS38)
	@$(M4_SIGN) --image $< --seq 2 --slot B --encrypt-to $(M4)/keys/device.pub --payload-out $(M4)/app-v2-enc.payload --out $@ >/dev/null \
	  && echo "m4: $@ signed (sequence 2, slot B, encrypted for the device)"

m4-test: m4
	@FS38=$(M4_FS38) scripts/m4-test.sh $(M4)

m4-bench: m4
	@FS38=$(M4_FS38) scripts/m4-test.sh --bench $(M4)
