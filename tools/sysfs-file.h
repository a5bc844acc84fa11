/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whole-value reads and writes of small (sysfs, configfs) files, for the
 * tools and the guest tests alike. Header only: the tests link libizc, not
 * the tools' objects.
 */
#ifndef IZC_TOOLS_SYSFS_FILE_H
#define IZC_TOOLS_SYSFS_FILE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* Write the string @val to the file @path: 0 or -errno. */
static inline int tool_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = write(fd, val, strlen(val)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

/* Read the file @path into @buf without trailing newlines and spaces: length or -errno. */
static inline int tool_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = 0;
	return (int)n;
}

#endif /* IZC_TOOLS_SYSFS_FILE_H */
