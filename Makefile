# SPDX-License-Identifier: GPL-2.0
#
# iio-zerocopy top-level build.
#
#   make               kernel modules, library, tools and guest test programs
#   make check         host unit tests, the installed library (pkg-config), the guest
#                      suite in QEMU, the bench self-test
#   make run           the demo: boot the guest, stream and benchmark
#   make lint          checkpatch --strict and sparse on kernel code,
#                      clang-format and cppcheck on userspace
#   make vm-shell      the guest with our modules loaded and a shell on the console
#   make guest-test T="name ..."   run guest tests by name (also the selftest ones)
#
# Build the modules for your own kernel with KDIR=/lib/modules/$(uname -r)/build
# (see README.md); by default Debian's newest 6.12 kernel is fetched and used.

BUILD ?= $(CURDIR)/build
KCACHE := $(BUILD)/kernel

# Debian's kernel, fetched into the build tree: kernel.mk sets KDIR, KCOMMON,
# KVER, KIMAGE, KMODDIR and KUAPI. A KDIR given on the command line wins and
# needs no -common Makefile.
-include $(KCACHE)/kernel.mk
ifeq ($(origin KDIR),command line)
override KCOMMON :=
KERNEL_DEP :=
else
KERNEL_DEP := $(KCACHE)/kernel.mk
endif

KMAKE = $(MAKE) -C $(KDIR) $(if $(KCOMMON),-f $(KCOMMON)/Makefile) M=$(CURDIR)/$(1)

# Our modules, in load order.
IZC_MODULES := soft-dma/izc_soft_dma block-buffer/izc_block_buffer sim-adc/izc_sim_adc \
	sim-dac/izc_sim_dac
IZC_KOS := $(addprefix kernel/,$(addsuffix .ko,$(IZC_MODULES)))

# Userspace gets the 6.12 uapi from the fetched headers when the system's
# (bookworm: 6.1) lack the IIO DMABUF ioctls.
SYSTEM_UAPI_OK := $(shell grep -qs IIO_BUFFER_DMABUF_ATTACH_IOCTL /usr/include/linux/iio/buffer.h && echo y)
UAPI_CFLAGS := $(if $(SYSTEM_UAPI_OK),,-I$(KCACHE)/uapi)

CC ?= gcc
LIBIZC_A := $(BUILD)/lib/libizc.a
HAVE_LIB := $(wildcard lib/Makefile)

GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -pthread \
	-Itests/guest -Ilib/include -Itools $(UAPI_CFLAGS)
GUEST_OUT := $(BUILD)/guest
GUEST_SRCS := $(wildcard tests/guest/*.c tests/guest/*.sh)
GUEST_SELFTEST_SRCS := $(wildcard tests/guest/selftest/*.c tests/guest/selftest/*.sh)
# The default suite: every test in tests/guest, in name order. The selftest
# ones fail on purpose and run only by name or from the bench self-test.
GUEST_TESTS := $(sort $(basename $(notdir $(GUEST_SRCS))))
GUEST_BINS := $(addprefix $(GUEST_OUT)/tests/,$(basename $(notdir $(GUEST_SRCS) $(GUEST_SELFTEST_SRCS))))
SELFTEST_KO := $(addprefix tests/guest/selftest/fixtures/,izc_selftest_warn.ko izc_selftest_uaf.ko)
INITRAMFS := $(GUEST_OUT)/initramfs.cpio.gz

RUN_GUEST = vm/run-guest --kernel $(KIMAGE) --initramfs $(INITRAMFS)

.PHONY: all deps fetch-kernel modules lib tools run guest initramfs check unit-check guest-check \
	guest-test vm-shell lint clean selftest-module usb-dummy-hcd usb-f-fs
all: modules lib tools guest

# Host packages a fresh Debian 12 machine lacks; installed once with apt.
deps: $(BUILD)/.deps
$(BUILD)/.deps: vm/install-deps.sh
	vm/install-deps.sh
	@mkdir -p $(BUILD) && touch $@

$(KCACHE)/kernel.mk: $(BUILD)/.deps
	vm/fetch-kernel.sh $(KCACHE)

fetch-kernel: $(KCACHE)/kernel.mk

modules: $(KERNEL_DEP)
	$(call KMAKE,kernel) modules

$(IZC_KOS): modules

lib: $(KERNEL_DEP)
ifneq ($(HAVE_LIB),)
	$(MAKE) -C lib O=$(BUILD) UAPI_CFLAGS="$(UAPI_CFLAGS)"
endif

TOOLS_OUT := $(BUILD)/tools
TOOLS := izc-info izc-capture izc-generate izc-bench izc-demo izc-usb-bridge izc-usb-host \
	izc-usb-bridge-bench
tools: lib
	$(MAKE) -C tools O=$(BUILD) UAPI_CFLAGS="$(UAPI_CFLAGS)"
	install -m 0755 tools/izc-usb-bridge-bench.sh $(TOOLS_OUT)/izc-usb-bridge-bench

$(GUEST_OUT)/tests/%: tests/guest/%.c $(wildcard tests/guest/*.h tools/*.h) $(wildcard $(LIBIZC_A)) | lib
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -o $@ $< $(if $(HAVE_LIB),$(LIBIZC_A))

$(GUEST_OUT)/tests/%: tests/guest/selftest/%.c $(wildcard tests/guest/*.h) $(wildcard $(LIBIZC_A)) | lib
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -o $@ $< $(if $(HAVE_LIB),$(LIBIZC_A))

$(GUEST_OUT)/tests/%: tests/guest/%.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@

$(GUEST_OUT)/tests/tap.shlib: tests/guest/tap.shlib
	@mkdir -p $(dir $@)
	install -m 0644 $< $@

$(GUEST_OUT)/tests/%: tests/guest/selftest/%.sh
	@mkdir -p $(dir $@)
	install -m 0755 $< $@

selftest-module: $(KERNEL_DEP)
	$(call KMAKE,tests/guest/selftest/fixtures) modules

# dummy_hcd with scatter-gather gadget requests: our patch applied to
# Debian's linux-source-6.12 copy, built out of tree. Tests load it from
# /lib/izc/extra; it stands in for Debian's dummy_hcd, which is never loaded.
DUMMY_HCD_KO := kernel/usb-dummy-hcd/dummy_hcd.ko
usb-dummy-hcd: $(KERNEL_DEP) $(BUILD)/src/linux/.extracted
	$(call KMAKE,kernel/usb-dummy-hcd) DUMMY_HCD_SRCTREE=$(BUILD)/src/linux modules

# FunctionFS with our fix for its DMABUF ioctls after a gadget unbind,
# built from Debian's linux-source-6.12 copy; the guest boots with it in
# place of Debian's usb_f_fs.
USB_F_FS_KO := kernel/usb-f-fs/usb_f_fs.ko
usb-f-fs: $(KERNEL_DEP) $(BUILD)/src/linux/.extracted
	$(call KMAKE,kernel/usb-f-fs) USB_F_FS_SRCTREE=$(BUILD)/src/linux modules

# Unmodified upstream userspace for the guest: Linux's tools/iio, built
# static from Debian's linux-source-6.12, and Debian's libiio utilities.
UPSTREAM_OUT := $(GUEST_OUT)/upstream
UPSTREAM_STATIC := $(UPSTREAM_OUT)/iio_generic_buffer $(UPSTREAM_OUT)/lsiio
UPSTREAM_HOST := /usr/bin/iio_info /usr/bin/iio_readdev /usr/bin/iio_attr

$(BUILD)/src/linux/.extracted: $(BUILD)/.deps
	vm/fetch-source.sh $(BUILD)/src

$(UPSTREAM_OUT)/%: $(BUILD)/src/linux/.extracted
	@mkdir -p $(dir $@)
	$(CC) -static -O2 -D_GNU_SOURCE $(UAPI_CFLAGS) -w -o $@ \
		$(BUILD)/src/linux/tools/iio/$*.c $(BUILD)/src/linux/tools/iio/iio_utils.c

guest: initramfs
initramfs: modules selftest-module usb-dummy-hcd usb-f-fs tools $(GUEST_BINS) $(GUEST_OUT)/tests/tap.shlib \
	$(UPSTREAM_STATIC)
	@mkdir -p $(GUEST_OUT)/tests/modules
	cp $(SELFTEST_KO) $(DUMMY_HCD_KO) $(GUEST_OUT)/tests/modules/
	vm/mkinitramfs.sh $(foreach b,$(UPSTREAM_STATIC) $(addprefix $(TOOLS_OUT)/,$(TOOLS)),--static-bin $(b)) \
		$(foreach b,$(UPSTREAM_HOST),--host-bin $(b)) \
		--replace-module usb_f_fs=$(USB_F_FS_KO) \
		$(INITRAMFS) $(KMODDIR) $(GUEST_OUT)/tests $(IZC_KOS)

unit-check: lib
ifneq ($(HAVE_LIB),)
	$(MAKE) -C tests/unit O=$(BUILD) UAPI_CFLAGS="$(UAPI_CFLAGS)" check
endif

guest-check: initramfs
	$(RUN_GUEST) $(GUEST_TESTS)

guest-test: initramfs
	$(RUN_GUEST) $(T)

# The README's main job: the demo in the guest, shown as it runs: devices,
# a capture, the capture benchmark, then the IIO-to-USB bridge benchmark.
run: initramfs
	$(RUN_GUEST) --verbose --mm-debug off --test-timeout 1200 /usr/bin/izc-demo /usr/bin/izc-usb-bridge-bench

vm-shell: initramfs
	$(RUN_GUEST) --shell $(foreach p,$(P),--param $(p))

# The contract of the README: host unit tests, installed library, guest suite, bench self-test,
# closing with the total "N passed, N failed".
check: all
	vm/check.sh "$(BUILD)" "$(KIMAGE)" "$(INITRAMFS)" "$(if $(HAVE_LIB),tests/unit)" $(GUEST_TESTS)

lint: modules
	scripts/lint.sh "$(BUILD)" "$(KDIR)" "$(KCOMMON)"

clean:
	-$(if $(KDIR),$(call KMAKE,kernel) clean)
	-$(if $(KDIR),$(call KMAKE,tests/guest/selftest/fixtures) clean)
	-$(if $(KDIR),$(call KMAKE,kernel/usb-dummy-hcd) clean)
	-$(if $(KDIR),$(call KMAKE,kernel/usb-f-fs) clean)
	rm -rf $(GUEST_OUT) $(BUILD)/lib $(TOOLS_OUT) $(BUILD)/unit
