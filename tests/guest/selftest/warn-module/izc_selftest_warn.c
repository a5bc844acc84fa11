// SPDX-License-Identifier: GPL-2.0
/*
 * Test fixture for the guest bench, never loaded by the suite: a module whose
 * load WARNs, to show that a kernel splat fails the run even when the test
 * program itself reports success.
 */
#include <linux/bug.h>
#include <linux/module.h>

static int __init izc_selftest_warn_init(void)
{
	WARN(1, "izc_selftest_warn: deliberate warning for the bench self-test\n");
	return 0;
}
module_init(izc_selftest_warn_init);

static void __exit izc_selftest_warn_exit(void)
{
}
module_exit(izc_selftest_warn_exit);

MODULE_DESCRIPTION("iio-zerocopy bench self-test: a module that WARNs on load");
MODULE_AUTHOR("iio-zerocopy developers");
MODULE_LICENSE("GPL");
