/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Minimal host unit test harness: a test case is a function; checks record
 * failures with file:line and the values seen; the runner prints one
 * "ok - name" / "not ok - name" line per case and "N passed, M failed".
 */
#ifndef IZC_UNIT_TEST_H
#define IZC_UNIT_TEST_H

#include <stdio.h>
#include <string.h>

struct test_ctx {
	int failures;
};

struct test_case {
	const char *name;
	void (*fn)(struct test_ctx *t);
};

struct test_suite {
	const struct test_case *cases;
	size_t ncases;
};

#define TEST_SUITE(var, ...)                                                                       \
	static const struct test_case var##_cases[] = {__VA_ARGS__};                               \
	const struct test_suite var = {var##_cases, sizeof(var##_cases) / sizeof(var##_cases[0])}

#define TEST(fn)                                                                                   \
	{                                                                                          \
#fn, fn                                                                            \
	}

#define CHECK(t, cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			(t)->failures++;                                                           \
			printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
		}                                                                                  \
	} while (0)

#define CHECK_INT(t, a, b)                                                                         \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			(t)->failures++;                                                           \
			printf("# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, __LINE__,   \
			       #a, a_, #b, b_);                                                    \
		}                                                                                  \
	} while (0)

/* Compare @n elements of two integer arrays; reports the first difference. */
#define CHECK_ARRAY(t, a, b, n)                                                                    \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < (size_t)(n); i_++) {                                      \
			long long a_ = (long long)(a)[i_], b_ = (long long)(b)[i_];                \
			if (a_ != b_) {                                                            \
				(t)->failures++;                                                   \
				printf("# %s:%d: %s[%zu] == %lld, expected %s[%zu] == %lld\n",     \
				       __FILE__, __LINE__, #a, i_, a_, #b, i_, b_);                \
				break;                                                             \
			}                                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(t, a, b)                                                                         \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (!a_ || !b_ || strcmp(a_, b_)) {                                                \
			(t)->failures++;                                                           \
			printf("# %s:%d: %s == \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a, \
			       a_ ? a_ : "(null)", b_ ? b_ : "(null)");                            \
		}                                                                                  \
	} while (0)

/* Stop the case when a precondition fails (objects after it would be NULL). */
#define REQUIRE_INT(t, a, b)                                                                       \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			(t)->failures++;                                                           \
			printf("# %s:%d: %s == %lld, expected %lld (fatal)\n", __FILE__, __LINE__, \
			       #a, a_, b_);                                                        \
			goto out;                                                                  \
		}                                                                                  \
	} while (0)

/* fakesys.c: a fake sysfs/dev tree in a temporary directory. */
struct fake_tree {
	char root[64];	 /* the temp dir */
	char sysfs[128]; /* root/sys */
	char dev[128];	 /* root/dev */
};

int fake_tree_init(struct fake_tree *ft);
void fake_tree_destroy(struct fake_tree *ft);
/* Write content to sysfs-relative path rel, creating directories. */
int fake_write(const struct fake_tree *ft, const char *rel, const char *content);
/* Read back a sysfs-relative file (trailing newline kept). */
int fake_read(const struct fake_tree *ft, const char *rel, char *buf, size_t len);
/* A channel's _en/_index/_type files in directory dir (sysfs-relative). */
int fake_channel(const struct fake_tree *ft, const char *dir, const char *id, int index,
		 const char *type, int enabled);
/* A buffer's attribute files in dir; direction NULL: no direction file. */
int fake_buffer(const struct fake_tree *ft, const char *dir, const char *direction);
/* Create a file at a dev-relative path with content (len bytes). */
int fake_dev_file(const struct fake_tree *ft, const char *rel, const void *content, size_t len);

#endif /* IZC_UNIT_TEST_H */
