// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Scan types, frame layout, demux and sample conversion. Pure functions.
 *
 * The kernel prints a scan type as "%s:%c%d/%d>>%u" or, with a repeat,
 * "%s:%c%d/%dX%d>>%u" (endianness "le"/"be", sign 's'/'u'; some vendor
 * kernels print 'S'/'U' for the same signedness).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define IZC_SCAN_NUM_MAX 65535u

/* Parses a plain decimal number (digits only) at *p, advances *p. */
static int parse_uint(const char **p, unsigned int *out)
{
	const char *s = *p;
	unsigned int v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > IZC_SCAN_NUM_MAX)
			return -EINVAL;
		s++;
	}
	*p = s;
	*out = v;
	return 0;
}

IZC_EXPORT int izc_scan_type_parse(const char *str, struct izc_scan_type *st)
{
	struct izc_scan_type t = {.repeat = 1};
	const char *p = str;

	if (!str || !st)
		return -EINVAL;
	if (!strncmp(p, "le:", 3))
		t.is_be = false;
	else if (!strncmp(p, "be:", 3))
		t.is_be = true;
	else
		return -EINVAL;
	p += 3;

	switch (*p) {
	case 's':
	case 'S':
		t.is_signed = true;
		break;
	case 'u':
	case 'U':
		t.is_signed = false;
		break;
	default:
		return -EINVAL;
	}
	p++;

	if (parse_uint(&p, &t.realbits) || *p++ != '/' || parse_uint(&p, &t.storagebits))
		return -EINVAL;
	if (*p == 'X') {
		p++;
		if (parse_uint(&p, &t.repeat))
			return -EINVAL;
	}
	if (p[0] != '>' || p[1] != '>')
		return -EINVAL;
	p += 2;
	if (parse_uint(&p, &t.shift))
		return -EINVAL;
	if (*p == '\n')
		p++;
	if (*p != '\0')
		return -EINVAL;

	/*
	 * The kernel only checks realbits + shift <= storagebits; frames hold
	 * storagebits / 8 bytes per element, so storage must be whole bytes
	 * (24-bit storage exists, e.g. ad5791).
	 */
	if (!t.storagebits || t.storagebits % 8 || t.storagebits > 64)
		return -EINVAL;
	if (!t.realbits || t.realbits > t.storagebits || t.shift > t.storagebits - t.realbits ||
	    !t.repeat)
		return -EINVAL;

	*st = t;
	return 0;
}

static bool scan_type_valid(const struct izc_scan_type *st)
{
	return st && st->storagebits && st->storagebits % 8 == 0 && st->storagebits <= 64 &&
	       st->realbits && st->realbits <= st->storagebits &&
	       st->shift <= st->storagebits - st->realbits && st->repeat;
}

IZC_EXPORT int izc_scan_type_format(const struct izc_scan_type *st, char *buf, size_t len)
{
	int n;

	if (!scan_type_valid(st) || !buf)
		return -EINVAL;
	if (st->repeat > 1)
		n = snprintf(buf, len, "%s:%c%u/%uX%u>>%u", st->is_be ? "be" : "le",
			     st->is_signed ? 's' : 'u', st->realbits, st->storagebits, st->repeat,
			     st->shift);
	else
		n = snprintf(buf, len, "%s:%c%u/%u>>%u", st->is_be ? "be" : "le",
			     st->is_signed ? 's' : 'u', st->realbits, st->storagebits, st->shift);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n >= len)
		return -ENOSPC;
	return n;
}

IZC_EXPORT size_t izc_scan_type_bytes(const struct izc_scan_type *st)
{
	return st ? (size_t)st->storagebits / 8 * st->repeat : 0;
}

/*
 * The kernel's ALIGN(x, a): exact for the power-of-two sizes IIO uses; kept
 * bit-identical so a repeat that is not a power of two lays out as the
 * kernel lays it out.
 */
static size_t kernel_align(size_t x, size_t a)
{
	return (x + a - 1) & ~(a - 1);
}

IZC_EXPORT int izc_scan_layout(const struct izc_scan_type *types, size_t n, size_t *offsets,
			       size_t *frame_size)
{
	size_t bytes = 0, largest = 0;

	if (!types || !n || !frame_size)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t len;

		if (!scan_type_valid(&types[i]))
			return -EINVAL;
		len = izc_scan_type_bytes(&types[i]);
		bytes = kernel_align(bytes, len);
		if (offsets)
			offsets[i] = bytes;
		bytes += len;
		if (len > largest)
			largest = len;
	}
	*frame_size = kernel_align(bytes, largest);
	return 0;
}

IZC_EXPORT int izc_demux(const void *frames, size_t nframes, size_t frame_size, size_t offset,
			 size_t elem_size, void *out)
{
	const unsigned char *src = frames;
	unsigned char *dst = out;

	if (!elem_size || offset > frame_size || elem_size > frame_size - offset)
		return -EINVAL;
	if (nframes && (!frames || !out))
		return -EINVAL;
	switch (elem_size) {
	case 2:
		for (size_t i = 0; i < nframes; i++)
			memcpy(dst + i * 2, src + i * frame_size + offset, 2);
		break;
	case 4:
		for (size_t i = 0; i < nframes; i++)
			memcpy(dst + i * 4, src + i * frame_size + offset, 4);
		break;
	default:
		for (size_t i = 0; i < nframes; i++)
			memcpy(dst + i * elem_size, src + i * frame_size + offset, elem_size);
		break;
	}
	return 0;
}

IZC_EXPORT int64_t izc_sample_to_int(const struct izc_scan_type *st, const void *raw)
{
	const unsigned char *b = raw;
	unsigned int nbytes;
	uint64_t v = 0;

	if (!scan_type_valid(st) || !raw)
		return 0;
	nbytes = st->storagebits / 8;

	for (unsigned int i = 0; i < nbytes; i++) {
		unsigned int idx = st->is_be ? i : nbytes - 1 - i;

		v = (v << 8) | b[idx];
	}
	v >>= st->shift;
	if (st->realbits < 64) {
		uint64_t mask = (UINT64_C(1) << st->realbits) - 1;

		v &= mask;
		if (st->is_signed && (v >> (st->realbits - 1)) & 1)
			v |= ~mask;
	}
	return (int64_t)v;
}

IZC_EXPORT double izc_sample_to_double(const struct izc_scan_type *st, const void *raw,
				       double scale, double offset)
{
	return ((double)izc_sample_to_int(st, raw) + offset) * scale;
}
