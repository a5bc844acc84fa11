/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Minimal TAP producer for guest tests.
 *
 * Every guest test is one program printing TAP version 13 on stdout. The
 * runner counts "ok" and "not ok" lines, checks the plan, the exit status and
 * the kernel log after the program. Assertions here check data or an exact
 * errno; nothing passes by default.
 *
 * Our modules live in the guest at /lib/izc/NAME.ko; tap_load_module() loads
 * one with finit_module() so a test sees the exact errno. The runner unloads
 * every izc module after each test, and a module it cannot unload (a leaked
 * reference) fails the run.
 */
#ifndef IZC_TESTS_TAP_H
#define IZC_TESTS_TAP_H

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sysfs-file.h"

struct tap {
	int planned;
	int run;
	int failed;
};

/* One TAP stream per process; a forked child must not print results. */
static struct tap tap_state;

static inline void tap_plan(int n)
{
	tap_state.planned = n;
	printf("TAP version 13\n1..%d\n", n);
	fflush(stdout);
}

static inline void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void tap_diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

static inline bool tap_vok(bool cond, const char *fmt, va_list ap)
{
	tap_state.run++;
	if (!cond)
		tap_state.failed++;
	printf("%s %d - ", cond ? "ok" : "not ok", tap_state.run);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

static inline bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cond = tap_vok(cond, fmt, ap);
	va_end(ap);
	return cond;
}

/*
 * Assert that a call returning -1/errno (or a negative errno) failed with
 * exactly @expected. @ret is the call's return value, @err the errno it left.
 */
static inline bool tap_errno(long ret, int err, int expected, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static inline bool tap_errno(long ret, int err, int expected, const char *fmt, ...)
{
	int got = ret == -1 ? err : (ret < 0 ? (int)-ret : 0);
	bool cond = ret < 0 && got == expected;
	va_list ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("  expected errno %d (%s), got ret %ld errno %d (%s)", expected,
			 strerror(expected), ret, got, got ? strerror(got) : "none");
	return cond;
}

/* Assert that a call succeeded (ret >= 0), printing errno otherwise. */
static inline bool tap_success(long ret, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline bool tap_success(long ret, int err, const char *fmt, ...)
{
	bool cond = ret >= 0;
	va_list ap;

	va_start(ap, fmt);
	tap_vok(cond, fmt, ap);
	va_end(ap);
	if (!cond)
		tap_diag("  failed: ret %ld errno %d (%s)", ret, err, strerror(err));
	return cond;
}

/* Stop the whole test: everything planned and not run counts as failed. */
static inline void tap_bail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static inline void tap_bail(const char *fmt, ...)
{
	va_list ap;

	fputs("Bail out! ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	exit(1);
}

/* Exit status for main(): 0 only if the plan was met and nothing failed. */
static inline int tap_done(void)
{
	if (tap_state.planned != tap_state.run)
		tap_diag("planned %d tests, ran %d", tap_state.planned, tap_state.run);
	return tap_state.failed || tap_state.planned != tap_state.run;
}

/* Load /lib/izc/@name.ko with @params; returns 0 or -errno. */
static inline int tap_load_module(const char *name, const char *params)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "/lib/izc/%s.ko", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params ? params : "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/*
 * Load izc_soft_dma, izc_block_buffer and izc_sim_adc (with @adc_params), in
 * that order, stopping at the first failure; returns 0 or its -errno.
 */
static inline int tap_load_sim_adc(const char *adc_params)
{
	int ret = tap_load_module("izc_soft_dma", NULL);

	if (!ret)
		ret = tap_load_module("izc_block_buffer", NULL);
	if (!ret)
		ret = tap_load_module("izc_sim_adc", adc_params);
	return ret;
}

/* Unload module @name; returns 0 or -errno (EBUSY while in use). */
static inline int tap_unload_module(const char *name)
{
	return syscall(SYS_delete_module, name, O_NONBLOCK) ? -errno : 0;
}

#endif /* IZC_TESTS_TAP_H */
