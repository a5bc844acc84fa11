/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The soft DMA's debugfs state of one channel, "field: value" lines in
 * /sys/kernel/debug/izc-soft-dma/chanN/state (docs/sim-adc.md), for the
 * sdma-* guest tests.
 */
#ifndef IZC_TESTS_SDMA_STATE_H
#define IZC_TESTS_SDMA_STATE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * @field of the state of the channel a converter's dma_channel attribute
 * names (@dma_channel, "dma0chanN" with or without a newline: the
 * controller's debugfs calls it "chanN"), or -1.
 */
static inline long long sdma_state_ll(const char *dma_channel, const char *field)
{
	const char *chan = strstr(dma_channel, "chan");
	char path[128], line[128];
	size_t len = strlen(field);
	long long v = -1;
	FILE *f;

	if (!chan)
		return -1;
	snprintf(path, sizeof(path), "/sys/kernel/debug/izc-soft-dma/%.*s/state",
		 (int)strcspn(chan, "\n"), chan);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':')
			v = strtoll(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

#endif /* IZC_TESTS_SDMA_STATE_H */
