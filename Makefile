# SPDX-License-Identifier: GPL-2.0
#
# iio-zerocopy top-level build.
#
#   make            kernel modules, library, tools and guest test programs
#   make check      host unit tests + the guest suite in QEMU
#   make run        the demo: boot the guest, capture and benchmark
#   make lint       checkpatch --strict on kernel code, clang-format/cppcheck on userspace
#   make vm-shell   the guest with our modules loaded and a shell on the console
#
# Build against your own kernel with KDIR=/lib/modules/$(uname -r)/build
# (see README.md); by default Debian's newest 6.12 kernel is fetched.

BUILD ?= $(CURDIR)/build
KCACHE := $(BUILD)/kernel

ifeq ($(KDIR),)
# Debian's kernel, fetched into the build tree. kernel.mk sets KDIR, KCOMMON,
# KVER, KIMAGE and KMODDIR.
-include $(KCACHE)/kernel.mk
KERNEL_STAMP := $(KCACHE)/kernel.mk
endif

# Debian's split headers need the -common Makefile named explicitly.
KMAKE = $(MAKE) -C $(KDIR) $(if $(KCOMMON),-f $(KCOMMON)/Makefile) M=$(CURDIR)/kernel

.PHONY: all modules clean fetch-kernel
all: modules

$(KCACHE)/kernel.mk:
	vm/fetch-kernel.sh $(KCACHE)

fetch-kernel: $(KERNEL_STAMP)

modules: $(KERNEL_STAMP)
	$(KMAKE) modules

clean:
	-$(if $(KDIR),$(KMAKE) clean)
