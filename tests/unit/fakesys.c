// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Fake sysfs and /dev trees for host tests, in a mkdtemp() directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"

static int mkdirs(const char *path)
{
	char tmp[PATH_MAX];

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

int fake_tree_init(struct fake_tree *ft)
{
	snprintf(ft->root, sizeof(ft->root), "/tmp/izc-unit-XXXXXX");
	if (!mkdtemp(ft->root))
		return -errno;
	snprintf(ft->sysfs, sizeof(ft->sysfs), "%s/sys", ft->root);
	snprintf(ft->dev, sizeof(ft->dev), "%s/dev", ft->root);
	if (mkdirs(ft->sysfs) || mkdirs(ft->dev))
		return -EIO;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fake_tree_destroy(struct fake_tree *ft)
{
	if (strncmp(ft->root, "/tmp/izc-unit-", 14))
		return; /* never created */
	nftw(ft->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static int write_path(const char *path, const void *content, size_t len)
{
	char dir[PATH_MAX];
	char *slash;
	int fd, ret = 0;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash) {
		*slash = '\0';
		ret = mkdirs(dir);
		if (ret)
			return ret;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (len && write(fd, content, len) != (ssize_t)len)
		ret = -EIO;
	close(fd);
	return ret;
}

int fake_write(const struct fake_tree *ft, const char *rel, const char *content)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ft->sysfs, rel);
	return write_path(path, content, strlen(content));
}

int fake_read(const struct fake_tree *ft, const char *rel, char *buf, size_t len)
{
	char path[PATH_MAX];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ft->sysfs, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return (int)n;
}

int fake_channel(const struct fake_tree *ft, const char *dir, const char *id, int index,
		 const char *type, int enabled)
{
	char rel[PATH_MAX], val[32];
	int ret;

	snprintf(rel, sizeof(rel), "%s/%s_en", dir, id);
	ret = fake_write(ft, rel, enabled ? "1\n" : "0\n");
	snprintf(rel, sizeof(rel), "%s/%s_index", dir, id);
	snprintf(val, sizeof(val), "%d\n", index);
	ret = ret ? ret : fake_write(ft, rel, val);
	snprintf(rel, sizeof(rel), "%s/%s_type", dir, id);
	snprintf(val, sizeof(val), "%s\n", type);
	return ret ? ret : fake_write(ft, rel, val);
}

int fake_buffer(const struct fake_tree *ft, const char *dir, const char *direction)
{
	static const char *const attrs[][2] = {
		{"length", "0\n"},
		{"enable", "0\n"},
		{"watermark", "1\n"},
		{"data_available", "0\n"},
	};
	char rel[PATH_MAX];
	int ret = 0;

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]) && !ret; i++) {
		snprintf(rel, sizeof(rel), "%s/%s", dir, attrs[i][0]);
		ret = fake_write(ft, rel, attrs[i][1]);
	}
	if (!ret && direction) {
		char val[8];

		snprintf(rel, sizeof(rel), "%s/direction", dir);
		snprintf(val, sizeof(val), "%s\n", direction);
		ret = fake_write(ft, rel, val);
	}
	return ret;
}

int fake_dev_file(const struct fake_tree *ft, const char *rel, const void *content, size_t len)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", ft->dev, rel);
	return write_path(path, content, len);
}
