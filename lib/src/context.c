// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Context: discovery of IIO devices, buffers and channels from sysfs, and
 * the attribute accessors on them.
 *
 * Layout understood (kernel 5.11+ and the legacy one):
 *   <root>/iio:deviceN/{name,label}
 *   <root>/iio:deviceN/bufferM/{length,enable,watermark,data_available,direction}
 *   <root>/iio:deviceN/bufferM/<ch>_{en,index,type}
 *   <root>/iio:deviceN/buffer/ + scan_elements/        (legacy buffer 0)
 * Everything is read once at izc_context_open(), except values that change
 * (attributes, channel enables), which are read when asked for.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

#define IZC_DEFAULT_SYSFS "/sys/bus/iio/devices"
#define IZC_DEFAULT_DEV	  "/dev"
#define IZC_ATTR_MAX	  4096

IZC_EXPORT unsigned int izc_version(void)
{
	return IZC_VERSION;
}

static char *path_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* "prefix<digits>" -> number; -1 if name is not exactly that. */
static long parse_numbered(const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);
	const char *p = name + plen;
	long v = 0;

	if (strncmp(name, prefix, plen) || !*p)
		return -1;
	for (; *p; p++) {
		if (*p < '0' || *p > '9' || v > 100000000L)
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* Sorted numbers N of entries "prefixN" in dir (directories only). */
static int list_numbered(const char *dir, const char *prefix, long **out, unsigned int *count)
{
	unsigned int n = 0, cap = 0;
	long *nums = NULL;
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		long num = parse_numbered(de->d_name, prefix);
		char *p;

		if (num < 0)
			continue;
		p = path_join(dir, de->d_name);
		if (!p) {
			ret = -ENOMEM;
			break;
		}
		if (!is_dir(p)) {
			free(p);
			continue;
		}
		free(p);
		if (n == cap) {
			long *tmp = realloc(nums, (cap ? cap * 2 : 8) * sizeof(*nums));

			if (!tmp) {
				ret = -ENOMEM;
				break;
			}
			nums = tmp;
			cap = cap ? cap * 2 : 8;
		}
		nums[n++] = num;
	}
	closedir(d);
	if (ret) {
		free(nums);
		return ret;
	}
	if (n)
		qsort(nums, n, sizeof(*nums), cmp_long);
	*out = nums;
	*count = n;
	return 0;
}

static int cmp_channel(const void *a, const void *b)
{
	const struct izc_channel *x = a, *y = b;

	if (x->index != y->index)
		return (x->index > y->index) - (x->index < y->index);
	return strcmp(x->id, y->id);
}

static int read_channel(struct izc_channel *ch, const char *dir)
{
	char path[PATH_MAX], buf[128];
	long long idx;
	int ret;

	ch->en_path = NULL;
	if (asprintf(&ch->en_path, "%s/%s_en", dir, ch->id) < 0) {
		ch->en_path = NULL;
		return -ENOMEM;
	}
	if (snprintf(path, sizeof(path), "%s/%s_index", dir, ch->id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = izc_read_file_ll(path, &idx);
	if (ret)
		return ret;
	if (idx < 0 || idx > UINT_MAX)
		return -EINVAL;
	ch->index = (unsigned int)idx;
	if (snprintf(path, sizeof(path), "%s/%s_type", dir, ch->id) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	ret = izc_read_file(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	/*
	 * A type this library cannot lay out (storage not whole bytes, ...):
	 * keep the channel, flagged by storagebits 0, so that the device and
	 * its other channels stay usable; a frame with it enabled is -EINVAL.
	 */
	if (izc_scan_type_parse(buf, &ch->type))
		memset(&ch->type, 0, sizeof(ch->type));
	return 0;
}

static int scan_channels(struct izc_buffer *buf, const char *dir)
{
	unsigned int cap = 0;
	struct dirent *de;
	int ret = 0;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		struct izc_channel *ch;

		if (len <= 3 || strcmp(de->d_name + len - 3, "_en"))
			continue;
		if (buf->nchannels == cap) {
			struct izc_channel *tmp;

			tmp = realloc(buf->channels, (cap ? cap * 2 : 8) * sizeof(*tmp));
			if (!tmp) {
				ret = -ENOMEM;
				break;
			}
			buf->channels = tmp;
			cap = cap ? cap * 2 : 8;
		}
		ch = &buf->channels[buf->nchannels];
		memset(ch, 0, sizeof(*ch));
		ch->buf = buf;
		ch->id = strndup(de->d_name, len - 3);
		if (!ch->id) {
			ret = -ENOMEM;
			break;
		}
		buf->nchannels++;
		ret = read_channel(ch, dir);
		if (ret)
			break;
	}
	closedir(d);
	if (!ret && buf->nchannels)
		qsort(buf->channels, buf->nchannels, sizeof(*buf->channels), cmp_channel);
	return ret;
}

static int init_buffer(struct izc_device *dev, struct izc_buffer *buf, unsigned int index,
		       bool legacy)
{
	char name[32], dirbuf[32], dpath[PATH_MAX];
	char *scan_dir;
	int ret;

	buf->dev = dev;
	buf->index = index;
	buf->dir = IZC_DIR_IN;
	snprintf(name, sizeof(name), legacy ? "buffer" : "buffer%u", index);
	buf->attr_dir = path_join(dev->path, name);
	if (!buf->attr_dir)
		return -ENOMEM;

	if (izc_path(dpath, sizeof(dpath), buf->attr_dir, "direction"))
		return -ENAMETOOLONG;
	ret = izc_read_file(dpath, dirbuf, sizeof(dirbuf));
	if (ret >= 0 && !strcmp(dirbuf, "out"))
		buf->dir = IZC_DIR_OUT;
	else if (ret >= 0 && strcmp(dirbuf, "in"))
		return -EINVAL;
	else if (ret < 0 && ret != -ENOENT)
		return ret;

	if (!legacy) {
		ret = scan_channels(buf, buf->attr_dir);
		if (ret || buf->nchannels || index)
			return ret;
	}
	/* Legacy layout, or buffer0 without its own scan element files. */
	scan_dir = path_join(dev->path, "scan_elements");
	if (!scan_dir)
		return -ENOMEM;
	ret = scan_channels(buf, scan_dir);
	free(scan_dir);
	return ret;
}

static void free_device(struct izc_device *dev)
{
	for (unsigned int i = 0; i < dev->nbuffers; i++) {
		struct izc_buffer *buf = &dev->buffers[i];

		for (unsigned int j = 0; j < buf->nchannels; j++) {
			free(buf->channels[j].id);
			free(buf->channels[j].en_path);
		}
		free(buf->channels);
		free(buf->attr_dir);
	}
	free(dev->buffers);
	free(dev->id);
	free(dev->path);
	free(dev->node);
	free(dev->name);
	free(dev->label);
}

static int init_device(struct izc_context *ctx, struct izc_device *dev, unsigned int number)
{
	char path[PATH_MAX], value[IZC_ATTR_MAX];
	unsigned int nbufs = 0;
	long *bufnums = NULL;
	int ret;

	dev->ctx = ctx;
	dev->number = number;
	if (asprintf(&dev->id, "iio:device%u", number) < 0) {
		dev->id = NULL;
		return -ENOMEM;
	}
	dev->path = path_join(ctx->sysfs_root, dev->id);
	dev->node = path_join(ctx->dev_root, dev->id);
	if (!dev->path || !dev->node)
		return -ENOMEM;

	if (izc_path(path, sizeof(path), dev->path, "name"))
		return -ENAMETOOLONG;
	ret = izc_read_file(path, value, sizeof(value));
	if (ret < 0 && ret != -ENOENT)
		return ret;
	dev->name = strdup(ret < 0 ? "" : value);
	if (!dev->name)
		return -ENOMEM;

	if (izc_path(path, sizeof(path), dev->path, "label"))
		return -ENAMETOOLONG;
	ret = izc_read_file(path, value, sizeof(value));
	if (ret < 0 && ret != -ENOENT)
		return ret;
	if (ret >= 0) {
		dev->label = strdup(value);
		if (!dev->label)
			return -ENOMEM;
	}

	ret = list_numbered(dev->path, "buffer", &bufnums, &nbufs);
	if (ret)
		return ret;
	if (nbufs) {
		dev->buffers = calloc(nbufs, sizeof(*dev->buffers));
		if (!dev->buffers) {
			free(bufnums);
			return -ENOMEM;
		}
		for (unsigned int i = 0; i < nbufs; i++) {
			dev->nbuffers++;
			ret = init_buffer(dev, &dev->buffers[i], (unsigned int)bufnums[i], false);
			if (ret)
				break;
		}
		free(bufnums);
		return ret;
	}
	free(bufnums);

	if (izc_path(path, sizeof(path), dev->path, "buffer"))
		return -ENAMETOOLONG;
	if (!is_dir(path))
		return 0;
	dev->buffers = calloc(1, sizeof(*dev->buffers));
	if (!dev->buffers)
		return -ENOMEM;
	dev->nbuffers = 1;
	return init_buffer(dev, &dev->buffers[0], 0, true);
}

IZC_EXPORT void izc_context_close(struct izc_context *ctx)
{
	if (!ctx)
		return;
	for (unsigned int i = 0; i < ctx->ndevices; i++)
		free_device(&ctx->devices[i]);
	free(ctx->devices);
	free(ctx->sysfs_root);
	free(ctx->dev_root);
	free(ctx);
}

IZC_EXPORT int izc_context_open(const char *sysfs_root, const char *dev_root,
				struct izc_context **out)
{
	struct izc_context *ctx;
	unsigned int ndev = 0;
	long *nums = NULL;
	int ret;

	if (!out)
		return -EINVAL;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->sysfs_root = strdup(sysfs_root ? sysfs_root : IZC_DEFAULT_SYSFS);
	ctx->dev_root = strdup(dev_root ? dev_root : IZC_DEFAULT_DEV);
	if (!ctx->sysfs_root || !ctx->dev_root) {
		ret = -ENOMEM;
		goto err_close;
	}
	ret = list_numbered(ctx->sysfs_root, "iio:device", &nums, &ndev);
	if (ret)
		goto err_close;
	if (ndev) {
		ctx->devices = calloc(ndev, sizeof(*ctx->devices));
		if (!ctx->devices) {
			ret = -ENOMEM;
			goto err_free_nums;
		}
	}
	for (unsigned int i = 0; i < ndev; i++) {
		struct izc_device *dev = &ctx->devices[ctx->ndevices++];

		ret = init_device(ctx, dev, (unsigned int)nums[i]);
		if (ret == -ENOMEM)
			goto err_free_nums;
		if (ret) {
			/*
			 * One device that cannot be read (unplugged during the
			 * scan, unreadable attributes) does not hide the others.
			 */
			free_device(dev);
			memset(dev, 0, sizeof(*dev));
			ctx->ndevices--;
		}
	}
	free(nums);
	*out = ctx;
	return 0;

err_free_nums:
	free(nums);
err_close:
	izc_context_close(ctx);
	return ret;
}

IZC_EXPORT unsigned int izc_context_device_count(const struct izc_context *ctx)
{
	return ctx ? ctx->ndevices : 0;
}

IZC_EXPORT int izc_context_get_device(const struct izc_context *ctx, unsigned int index,
				      struct izc_device **dev)
{
	if (!ctx || !dev || index >= ctx->ndevices)
		return -EINVAL;
	*dev = &ctx->devices[index];
	return 0;
}

IZC_EXPORT int izc_context_find_device(const struct izc_context *ctx, const char *name,
				       struct izc_device **dev)
{
	if (!ctx || !name || !dev)
		return -EINVAL;
	for (int pass = 0; pass < 3; pass++) {
		for (unsigned int i = 0; i < ctx->ndevices; i++) {
			struct izc_device *d = &ctx->devices[i];
			const char *s = pass == 0 ? d->id : pass == 1 ? d->label : d->name;

			if (s && *s && !strcmp(s, name)) {
				*dev = d;
				return 0;
			}
		}
	}
	return -ENODEV;
}

IZC_EXPORT const char *izc_device_id(const struct izc_device *dev)
{
	return dev->id;
}

IZC_EXPORT const char *izc_device_name(const struct izc_device *dev)
{
	return dev->name;
}

IZC_EXPORT const char *izc_device_label(const struct izc_device *dev)
{
	return dev->label;
}

IZC_EXPORT unsigned int izc_device_number(const struct izc_device *dev)
{
	return dev->number;
}

/* Attribute names are single path components. */
static int attr_path(char *out, size_t len, const char *dir, const char *attr)
{
	if (!attr || !*attr || strchr(attr, '/') || !strcmp(attr, ".") || !strcmp(attr, ".."))
		return -EINVAL;
	return izc_path(out, len, dir, attr);
}

static int attr_read(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	if (!buf)
		return -EINVAL;
	ret = attr_path(path, sizeof(path), dir, attr);
	return ret ? ret : izc_read_file(path, buf, len);
}

static int attr_write(const char *dir, const char *attr, const char *value)
{
	char path[PATH_MAX];
	int ret;

	if (!value)
		return -EINVAL;
	ret = attr_path(path, sizeof(path), dir, attr);
	return ret ? ret : izc_write_file(path, value);
}

static int attr_read_ll(const char *dir, const char *attr, long long *val)
{
	char path[PATH_MAX];
	int ret;

	if (!val)
		return -EINVAL;
	ret = attr_path(path, sizeof(path), dir, attr);
	return ret ? ret : izc_read_file_ll(path, val);
}

static int attr_write_ll(const char *dir, const char *attr, long long val)
{
	char value[32];

	snprintf(value, sizeof(value), "%lld", val);
	return attr_write(dir, attr, value);
}

IZC_EXPORT int izc_device_attr_read(const struct izc_device *dev, const char *attr, char *buf,
				    size_t len)
{
	if (!dev)
		return -EINVAL;
	return attr_read(dev->path, attr, buf, len);
}

IZC_EXPORT int izc_device_attr_write(const struct izc_device *dev, const char *attr,
				     const char *value)
{
	if (!dev)
		return -EINVAL;
	return attr_write(dev->path, attr, value);
}

IZC_EXPORT int izc_device_attr_read_ll(const struct izc_device *dev, const char *attr,
				       long long *val)
{
	if (!dev)
		return -EINVAL;
	return attr_read_ll(dev->path, attr, val);
}

IZC_EXPORT int izc_device_attr_write_ll(const struct izc_device *dev, const char *attr,
					long long val)
{
	if (!dev)
		return -EINVAL;
	return attr_write_ll(dev->path, attr, val);
}

IZC_EXPORT unsigned int izc_device_buffer_count(const struct izc_device *dev)
{
	return dev ? dev->nbuffers : 0;
}

IZC_EXPORT int izc_device_get_buffer(const struct izc_device *dev, unsigned int index,
				     struct izc_buffer **buf)
{
	if (!dev || !buf)
		return -EINVAL;
	for (unsigned int i = 0; i < dev->nbuffers; i++) {
		if (dev->buffers[i].index == index) {
			*buf = &dev->buffers[i];
			return 0;
		}
	}
	return -ENODEV;
}

IZC_EXPORT unsigned int izc_buffer_index(const struct izc_buffer *buf)
{
	return buf->index;
}

IZC_EXPORT struct izc_device *izc_buffer_device(const struct izc_buffer *buf)
{
	return buf->dev;
}

IZC_EXPORT enum izc_direction izc_buffer_direction(const struct izc_buffer *buf)
{
	return buf->dir;
}

IZC_EXPORT int izc_buffer_attr_read(const struct izc_buffer *buf, const char *attr, char *out,
				    size_t len)
{
	if (!buf)
		return -EINVAL;
	return attr_read(buf->attr_dir, attr, out, len);
}

IZC_EXPORT int izc_buffer_attr_write(const struct izc_buffer *buf, const char *attr,
				     const char *value)
{
	if (!buf)
		return -EINVAL;
	return attr_write(buf->attr_dir, attr, value);
}

IZC_EXPORT int izc_buffer_attr_read_ll(const struct izc_buffer *buf, const char *attr,
				       long long *val)
{
	if (!buf)
		return -EINVAL;
	return attr_read_ll(buf->attr_dir, attr, val);
}

IZC_EXPORT int izc_buffer_attr_write_ll(const struct izc_buffer *buf, const char *attr,
					long long val)
{
	if (!buf)
		return -EINVAL;
	return attr_write_ll(buf->attr_dir, attr, val);
}

IZC_EXPORT int izc_buffer_enabled(const struct izc_buffer *buf)
{
	long long v;
	int ret = buf ? attr_read_ll(buf->attr_dir, "enable", &v) : -EINVAL;

	return ret ? ret : v != 0;
}

IZC_EXPORT int izc_buffer_set_enabled(const struct izc_buffer *buf, bool enable)
{
	if (!buf)
		return -EINVAL;
	return attr_write(buf->attr_dir, "enable", enable ? "1" : "0");
}

IZC_EXPORT int izc_buffer_set_length(const struct izc_buffer *buf, unsigned long long frames)
{
	if (!buf || !frames || frames > LLONG_MAX)
		return -EINVAL;
	return attr_write_ll(buf->attr_dir, "length", (long long)frames);
}

IZC_EXPORT int izc_buffer_set_watermark(const struct izc_buffer *buf, unsigned long long frames)
{
	if (!buf || !frames || frames > LLONG_MAX)
		return -EINVAL;
	return attr_write_ll(buf->attr_dir, "watermark", (long long)frames);
}

IZC_EXPORT int izc_buffer_data_available(const struct izc_buffer *buf, unsigned long long *frames)
{
	long long v;
	int ret;

	if (!buf || !frames)
		return -EINVAL;
	ret = attr_read_ll(buf->attr_dir, "data_available", &v);
	if (ret)
		return ret;
	if (v < 0)
		return -EINVAL;
	*frames = (unsigned long long)v;
	return 0;
}

IZC_EXPORT unsigned int izc_buffer_channel_count(const struct izc_buffer *buf)
{
	return buf ? buf->nchannels : 0;
}

IZC_EXPORT int izc_buffer_get_channel(const struct izc_buffer *buf, unsigned int index,
				      struct izc_channel **ch)
{
	if (!buf || !ch || index >= buf->nchannels)
		return -EINVAL;
	*ch = &buf->channels[index];
	return 0;
}

static const char *strip_direction(const char *id)
{
	if (!strncmp(id, "in_", 3))
		return id + 3;
	if (!strncmp(id, "out_", 4))
		return id + 4;
	return id;
}

IZC_EXPORT int izc_buffer_find_channel(const struct izc_buffer *buf, const char *id,
				       struct izc_channel **ch)
{
	if (!buf || !id || !ch)
		return -EINVAL;
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < buf->nchannels; i++) {
			const char *cid = buf->channels[i].id;

			if (!strcmp(pass ? strip_direction(cid) : cid, id)) {
				*ch = &buf->channels[i];
				return 0;
			}
		}
	}
	return -ENOENT;
}

IZC_EXPORT int izc_buffer_set_scan_mask(const struct izc_buffer *buf, uint64_t mask)
{
	uint64_t known = 0;
	int ret;

	if (!buf)
		return -EINVAL;
	for (unsigned int i = 0; i < buf->nchannels; i++)
		if (buf->channels[i].index < 64)
			known |= UINT64_C(1) << buf->channels[i].index;
	if (mask & ~known)
		return -ERANGE;
	/* Disable first so a device with a channel limit accepts the new set. */
	for (int on = 0; on < 2; on++) {
		for (unsigned int i = 0; i < buf->nchannels; i++) {
			const struct izc_channel *ch = &buf->channels[i];
			bool want = ch->index < 64 && (mask >> ch->index) & 1;

			if (want != (bool)on)
				continue;
			ret = izc_channel_enable(ch, want);
			if (ret)
				return ret;
		}
	}
	return 0;
}

IZC_EXPORT int izc_buffer_frame_size(const struct izc_buffer *buf, size_t *frame_size)
{
	struct izc_scan_type *types;
	size_t n = 0;
	int ret = 0;

	if (!buf || !frame_size)
		return -EINVAL;
	if (!buf->nchannels)
		return -EINVAL;
	types = calloc(buf->nchannels, sizeof(*types));
	if (!types)
		return -ENOMEM;
	for (unsigned int i = 0; i < buf->nchannels; i++) {
		ret = izc_channel_enabled(&buf->channels[i]);
		if (ret < 0)
			break;
		if (ret)
			types[n++] = buf->channels[i].type;
		ret = 0;
	}
	if (!ret)
		ret = izc_scan_layout(types, n, NULL, frame_size);
	free(types);
	return ret;
}

IZC_EXPORT const char *izc_channel_id(const struct izc_channel *ch)
{
	return ch->id;
}

IZC_EXPORT unsigned int izc_channel_scan_index(const struct izc_channel *ch)
{
	return ch->index;
}

IZC_EXPORT const struct izc_scan_type *izc_channel_scan_type(const struct izc_channel *ch)
{
	return &ch->type;
}

IZC_EXPORT int izc_channel_enabled(const struct izc_channel *ch)
{
	long long v;
	int ret = ch ? izc_read_file_ll(ch->en_path, &v) : -EINVAL;

	return ret ? ret : v != 0;
}

IZC_EXPORT int izc_channel_enable(const struct izc_channel *ch, bool enable)
{
	if (!ch)
		return -EINVAL;
	return izc_write_file(ch->en_path, enable ? "1" : "0");
}
