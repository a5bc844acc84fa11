// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Every public function that returns int answers -EINVAL when an object
 * argument is NULL, instead of crashing. Each call runs in a child process
 * so that a crash is reported as such (and names the call) rather than
 * ending the whole run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "izc.h"
#include "test.h"

struct null_call {
	const char *expr;
	int (*fn)(void);
};

static char obuf[64];
static long long llv;
static size_t szv;
static struct izc_device *devv;
static struct izc_buffer *bufv;
static struct izc_channel *chv;
static struct izc_stream *sv;
static struct izc_block *bv;
static struct izc_scan_type stv;

#define NULL_CALL(name, expr)                                                                      \
	static int name(void)                                                                      \
	{                                                                                          \
		return (int)(expr);                                                                \
	}
#define ROW(name, expr)                                                                            \
	{                                                                                          \
#expr, name                                                                        \
	}

NULL_CALL(c1, izc_scan_type_parse(NULL, &stv))
NULL_CALL(c2, izc_scan_type_parse("le:u8/8>>0", NULL))
NULL_CALL(c3, izc_scan_type_format(NULL, obuf, sizeof(obuf)))
NULL_CALL(c4, izc_scan_layout(NULL, 1, NULL, &szv))
NULL_CALL(c5, izc_demux(NULL, 1, 8, 0, 2, obuf))
NULL_CALL(c6, izc_context_open(NULL, NULL, NULL))
NULL_CALL(c7, izc_context_get_device(NULL, 0, &devv))
NULL_CALL(c8, izc_context_find_device(NULL, "x", &devv))
NULL_CALL(c9, izc_device_attr_read(NULL, "name", obuf, sizeof(obuf)))
NULL_CALL(c10, izc_device_attr_write(NULL, "name", "x"))
NULL_CALL(c11, izc_device_attr_read_ll(NULL, "x", &llv))
NULL_CALL(c12, izc_device_attr_write_ll(NULL, "x", 1))
NULL_CALL(c13, izc_device_get_buffer(NULL, 0, &bufv))
NULL_CALL(c14, izc_buffer_attr_read(NULL, "length", obuf, sizeof(obuf)))
NULL_CALL(c15, izc_buffer_attr_write(NULL, "length", "1"))
NULL_CALL(c16, izc_buffer_attr_read_ll(NULL, "length", &llv))
NULL_CALL(c17, izc_buffer_attr_write_ll(NULL, "length", 1))
NULL_CALL(c18, izc_buffer_enabled(NULL))
NULL_CALL(c19, izc_buffer_set_enabled(NULL, true))
NULL_CALL(c20, izc_buffer_set_length(NULL, 16))
NULL_CALL(c21, izc_buffer_set_watermark(NULL, 16))
NULL_CALL(c22, izc_buffer_data_available(NULL, (unsigned long long *)&llv))
NULL_CALL(c23, izc_buffer_get_channel(NULL, 0, &chv))
NULL_CALL(c24, izc_buffer_find_channel(NULL, "voltage0", &chv))
NULL_CALL(c25, izc_buffer_set_scan_mask(NULL, 1))
NULL_CALL(c26, izc_buffer_frame_size(NULL, &szv))
NULL_CALL(c27, izc_channel_enabled(NULL))
NULL_CALL(c28, izc_channel_enable(NULL, true))
NULL_CALL(c29, izc_stream_open(NULL, 0, IZC_DIR_IN, 4, 4096, 0, &sv))
NULL_CALL(c30, izc_stream_fallback_reason(NULL))
NULL_CALL(c31, izc_stream_channel_offset(NULL, chv, &szv))
NULL_CALL(c32, izc_stream_get_block(NULL, 0, &bv))
NULL_CALL(c33, izc_stream_start(NULL))
NULL_CALL(c34, izc_stream_stop(NULL))
NULL_CALL(c35, izc_stream_dequeue(NULL, 0, &bv))
NULL_CALL(c36, izc_stream_cancel(NULL))
NULL_CALL(c37, izc_stream_drain(NULL, 0))
NULL_CALL(c38, izc_block_enqueue(NULL, 0, 0))
NULL_CALL(c39, izc_block_cpu_begin(NULL, IZC_ACCESS_READ, (void **)&bv))
NULL_CALL(c40, izc_block_cpu_end(NULL))
NULL_CALL(c41, izc_block_relay(NULL, sv, 0))
NULL_CALL(c42, izc_block_dmabuf_fd(NULL))
NULL_CALL(c43, izc_block_wait(NULL, 0))
NULL_CALL(c44, izc_ffs_attach(3, NULL))
NULL_CALL(c45, izc_ffs_detach(3, NULL))
NULL_CALL(c46, izc_ffs_transfer(3, NULL, 0))

static const struct null_call calls[] = {
	ROW(c1, parse(NULL, st)),
	ROW(c2, parse(str, NULL)),
	ROW(c3, scan_type_format),
	ROW(c4, scan_layout),
	ROW(c5, demux),
	ROW(c6, context_open),
	ROW(c7, context_get_device),
	ROW(c8, context_find_device),
	ROW(c9, device_attr_read),
	ROW(c10, device_attr_write),
	ROW(c11, device_attr_read_ll),
	ROW(c12, device_attr_write_ll),
	ROW(c13, device_get_buffer),
	ROW(c14, buffer_attr_read),
	ROW(c15, buffer_attr_write),
	ROW(c16, buffer_attr_read_ll),
	ROW(c17, buffer_attr_write_ll),
	ROW(c18, buffer_enabled),
	ROW(c19, buffer_set_enabled),
	ROW(c20, buffer_set_length),
	ROW(c21, buffer_set_watermark),
	ROW(c22, buffer_data_available),
	ROW(c23, buffer_get_channel),
	ROW(c24, buffer_find_channel),
	ROW(c25, buffer_set_scan_mask),
	ROW(c26, buffer_frame_size),
	ROW(c27, channel_enabled),
	ROW(c28, channel_enable),
	ROW(c29, stream_open),
	ROW(c30, stream_fallback_reason),
	ROW(c31, stream_channel_offset),
	ROW(c32, stream_get_block),
	ROW(c33, stream_start),
	ROW(c34, stream_stop),
	ROW(c35, stream_dequeue),
	ROW(c36, stream_cancel),
	ROW(c37, stream_drain),
	ROW(c38, block_enqueue),
	ROW(c39, block_cpu_begin),
	ROW(c40, block_cpu_end),
	ROW(c41, block_relay),
	ROW(c42, block_dmabuf_fd),
	ROW(c43, block_wait),
	ROW(c44, ffs_attach),
	ROW(c45, ffs_detach),
	ROW(c46, ffs_transfer),
};

/* The call's result, or 1000 + the signal that killed the child. */
static int run_in_child(int (*fn)(void))
{
	int pfd[2], status, ret = -1;
	pid_t pid;

	if (pipe(pfd))
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int r = fn();

		close(pfd[0]);
		_exit(write(pfd[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(pfd[1]);
	if (pid < 0) {
		close(pfd[0]);
		return -ECHILD;
	}
	if (read(pfd[0], &ret, sizeof(ret)) != (ssize_t)sizeof(ret))
		ret = -ECHILD;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		return 1000 + WTERMSIG(status);
	return ret;
}

static void null_arguments(struct test_ctx *t)
{
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		int ret = run_in_child(calls[i].fn);

		if (ret != -EINVAL) {
			t->failures++;
			if (ret >= 1000)
				printf("# izc_%s with NULL: killed by signal %d\n", calls[i].expr,
				       ret - 1000);
			else
				printf("# izc_%s with NULL: %d, expected -EINVAL\n", calls[i].expr,
				       ret);
		}
	}
}

/* The non-int accessors of counts and sizes answer 0, the conversion 0. */
static void null_accessors(struct test_ctx *t)
{
	CHECK_INT(t, izc_context_device_count(NULL), 0);
	CHECK_INT(t, izc_device_buffer_count(NULL), 0);
	CHECK_INT(t, izc_buffer_channel_count(NULL), 0);
	CHECK_INT(t, izc_scan_type_bytes(NULL), 0);
	CHECK_INT(t, izc_sample_to_int(NULL, obuf), 0);
}

TEST_SUITE(null_suite, TEST(null_arguments), TEST(null_accessors));
