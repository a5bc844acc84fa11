// SPDX-License-Identifier: GPL-2.0
/*
 * iio-zerocopy: the loopback wire from a simulated DAC into a simulated ADC.
 *
 * The contract is in include/izc/sim-loopback.h and docs/sim-dac.md. The
 * wire is a FIFO of whole frames of all channels (the "wire frame": every
 * channel of the pair, in channel order). The DAC's end assembles its frames
 * (enabled channels only) and widens them, disabled channels idle (0); the
 * ADC's end narrows wire frames to its enabled channels. When both ends have
 * every channel enabled the frames are identical and bytes are copied as
 * they are.
 *
 * Flow control is the soft DMA's avail()/kick: the DAC is told how many
 * bytes fit, the ADC how many it can have; a side that was told 0 is kicked
 * when the other side moved frames. So neither side loses a frame because
 * the other is momentarily behind, at any rate.
 */

#include <linux/bitops.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include <izc/soft-dma.h>

#include "loopback.h"

/* FIFO room beyond the longest latency: about 1 MiB of frames */
#define IZC_SIM_LINK_SLACK	SZ_1M

/* The links of all ADCs, for pairing by label */
static DEFINE_MUTEX(izc_sim_links_lock);
static LIST_HEAD(izc_sim_links);

/**
 * izc_sim_link_init - set up an ADC's link, unpaired
 * @link: the link
 * @adc_port: the ADC's sample port
 * @adc_label: the ADC's label; must outlive the link
 * @nchan: the ADC's channels
 * @bits: its storage bits, 16 or 32
 */
void izc_sim_link_init(struct izc_sim_link *link,
		       struct izc_sample_port *adc_port, const char *adc_label,
		       unsigned int nchan, unsigned int bits)
{
	memset(link, 0, sizeof(*link));
	INIT_LIST_HEAD(&link->node);
	spin_lock_init(&link->lock);
	link->adc_port = adc_port;
	link->adc_label = adc_label;
	link->nchan = nchan;
	link->sb = bits / 8;
	link->wire = nchan * link->sb;
}

/**
 * izc_sim_link_add - make an ADC's link findable by izc_sim_link_pair()
 * @link: the link
 */
void izc_sim_link_add(struct izc_sim_link *link)
{
	mutex_lock(&izc_sim_links_lock);
	list_add_tail(&link->node, &izc_sim_links);
	mutex_unlock(&izc_sim_links_lock);
}

/**
 * izc_sim_link_del - the ADC goes away
 * @link: the link
 *
 * The DAC module pins this module, so no DAC can still be paired; if one is,
 * that is a bug: the link is cut so that nothing points at freed memory.
 */
void izc_sim_link_del(struct izc_sim_link *link)
{
	mutex_lock(&izc_sim_links_lock);
	list_del_init(&link->node);
	mutex_unlock(&izc_sim_links_lock);

	if (WARN_ON_ONCE(READ_ONCE(link->dac_port)))
		izc_sim_link_unpair(link);
}

/**
 * izc_sim_link_retire - the ADC is about to be deleted
 * @link: the link
 *
 * A DAC paired with the ADC would be left pushing into a wire that is gone,
 * so the deletion is refused while one is; otherwise the link leaves the
 * list, so that no DAC can pair with it any more.
 *
 * Return: 0, or -EBUSY while a DAC is paired (unpair it first).
 */
int izc_sim_link_retire(struct izc_sim_link *link)
{
	bool paired;

	mutex_lock(&izc_sim_links_lock);
	spin_lock(&link->lock);
	paired = link->dac_port;
	spin_unlock(&link->lock);
	if (!paired)
		list_del_init(&link->node);
	mutex_unlock(&izc_sim_links_lock);

	return paired ? -EBUSY : 0;
}

static void izc_sim_link_end_start(struct izc_sim_link *link,
				   struct izc_sim_link_end *end,
				   const unsigned long *mask)
{
	unsigned int c;

	end->nactive = 0;
	for_each_set_bit(c, mask, link->nchan)
		end->active[end->nactive++] = c;
	end->frame_bytes = end->nactive * link->sb;
	end->stage_len = 0;
	end->stage_off = 0;
}

static bool izc_sim_link_end_full(struct izc_sim_link *link,
				  const struct izc_sim_link_end *end)
{
	return end->nactive == link->nchan;
}

/* ---- the FIFO, with link->lock held ------------------------------------ */

static u64 izc_sim_link_used(const struct izc_sim_link *link)
{
	return link->head - link->tail;
}

/*
 * Put @n bytes (whole wire frames; zeros if @src is NULL) into the FIFO.
 * Returns the number of frames dropped for want of room.
 */
static u64 izc_sim_link_put(struct izc_sim_link *link, const u8 *src, size_t n)
{
	size_t room, fit, at, k;

	/* Nobody listens: the DAC's output goes nowhere. */
	if (!link->adc_streaming || !link->ring)
		return 0;

	room = link->cap - izc_sim_link_used(link);
	fit = min(n, rounddown(room, link->wire));
	at = link->head % link->cap;
	link->head += fit;
	while (fit) {
		k = min(fit, link->cap - at);
		if (src) {
			memcpy(link->ring + at, src, k);
			src += k;
		} else {
			memset(link->ring + at, 0, k);
		}
		fit -= k;
		n -= k;
		at = 0;
	}

	return n / link->wire;
}

/* Take @n bytes out of the FIFO into @dst (discard if @dst is NULL). */
static void izc_sim_link_get(struct izc_sim_link *link, u8 *dst, size_t n)
{
	size_t at = link->tail % link->cap, k;

	link->tail += n;
	while (n) {
		k = min(n, link->cap - at);
		if (dst) {
			memcpy(dst, link->ring + at, k);
			dst += k;
		}
		n -= k;
		at = 0;
	}
}

static void izc_sim_link_reset(struct izc_sim_link *link)
{
	link->head = 0;
	link->tail = 0;
}

/* ---- the DAC's end (exported to izc_sim_dac) ---------------------------- */

/**
 * izc_sim_link_pair - wire a DAC to the ADC labelled @adc_label
 * @adc_label: the ADC's label, e.g. "izc-sim-adc0"
 * @dac_label: the DAC's label, shown by the ADC; must outlive the pairing
 * @dac_port: the DAC's sample port, kicked when the FIFO has room again
 * @nchan: the DAC's channels
 * @bits: the DAC's storage bits
 *
 * Context: process context; neither converter streaming.
 * Return: the link, or ERR_PTR: -ENODEV no such ADC, -EINVAL channel count
 * or storage bits differ, -EBUSY the ADC is paired already or streaming,
 * -ENOMEM.
 */
struct izc_sim_link *izc_sim_link_pair(const char *adc_label,
				       const char *dac_label,
				       struct izc_sample_port *dac_port,
				       unsigned int nchan, unsigned int bits)
{
	struct izc_sim_link *link = NULL, *each;
	size_t cap;
	u8 *ring;
	int ret = 0;

	mutex_lock(&izc_sim_links_lock);
	list_for_each_entry(each, &izc_sim_links, node) {
		if (!strcmp(each->adc_label, adc_label)) {
			link = each;
			break;
		}
	}
	if (!link) {
		ret = -ENODEV;
		goto unlock;
	}
	if (link->nchan != nchan || link->sb * 8 != bits) {
		ret = -EINVAL;
		goto unlock;
	}

	cap = (size_t)IZC_SIM_LINK_MAX_LATENCY * link->wire +
	      rounddown(IZC_SIM_LINK_SLACK, link->wire);
	ring = kvzalloc(cap, GFP_KERNEL);
	if (!ring) {
		ret = -ENOMEM;
		goto unlock;
	}

	spin_lock(&link->lock);
	if (link->dac_port || link->adc_streaming) {
		spin_unlock(&link->lock);
		kvfree(ring);
		ret = -EBUSY;
		goto unlock;
	}
	link->dac_port = dac_port;
	link->dac_label = dac_label;
	link->ring = ring;
	link->cap = cap;
	link->dac_streaming = false;
	link->dac_waiting = false;
	izc_sim_link_reset(link);
	spin_unlock(&link->lock);

unlock:
	mutex_unlock(&izc_sim_links_lock);
	return ret ? ERR_PTR(ret) : link;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_link_pair, IIO_ZEROCOPY);

/**
 * izc_sim_link_unpair - cut the wire
 * @link: a paired link
 *
 * May be called while either side streams (the DAC module goes away): the
 * ADC then sees a DAC that does not stream: idle frames when paced, nothing
 * when unpaced, until its buffer is disabled. On return the link no longer
 * uses the DAC's port.
 *
 * Context: process context.
 */
void izc_sim_link_unpair(struct izc_sim_link *link)
{
	u8 *ring;

	spin_lock(&link->lock);
	ring = link->ring;
	link->ring = NULL;
	link->dac_port = NULL;
	link->dac_label = NULL;
	link->dac_streaming = false;
	izc_sim_link_reset(link);
	spin_unlock(&link->lock);

	kvfree(ring);
	izc_soft_dma_port_kick(link->adc_port);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_link_unpair, IIO_ZEROCOPY);

/**
 * izc_sim_link_adc_label - the label of the ADC a link leads into
 * @link: the link
 *
 * Return: the label; valid as long as the ADC module is loaded.
 */
const char *izc_sim_link_adc_label(struct izc_sim_link *link)
{
	return link->adc_label;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_link_adc_label, IIO_ZEROCOPY);

/**
 * izc_sim_link_dac_start - the DAC starts a stream
 * @link: a paired link
 * @mask: the DAC's enabled channels
 * @latency: idle frames the stream starts with, at most
 *	IZC_SIM_LINK_MAX_LATENCY
 *
 * Context: process context, the DAC's DMA not running.
 * Return: frames dropped (the FIFO had no room for the latency).
 */
u64 izc_sim_link_dac_start(struct izc_sim_link *link,
			   const unsigned long *mask, unsigned int latency)
{
	u64 dropped;

	latency = min(latency, IZC_SIM_LINK_MAX_LATENCY);

	spin_lock(&link->lock);
	izc_sim_link_end_start(link, &link->dac, mask);
	link->latency = latency;
	link->dac_streaming = true;
	link->dac_waiting = false;
	dropped = izc_sim_link_put(link, NULL, (size_t)latency * link->wire);
	spin_unlock(&link->lock);

	izc_soft_dma_port_kick(link->adc_port);
	return dropped;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_link_dac_start, IIO_ZEROCOPY);

/**
 * izc_sim_link_dac_stop - the DAC's stream ended
 * @link: a paired link
 *
 * A frame the DAC had only partly emitted is dropped (the FIFO holds whole
 * frames); the frames in the FIFO still reach the ADC, then idle.
 *
 * Context: process context, the DAC's DMA stopped.
 */
void izc_sim_link_dac_stop(struct izc_sim_link *link)
{
	spin_lock(&link->lock);
	link->dac_streaming = false;
	link->dac.stage_len = 0;
	spin_unlock(&link->lock);

	izc_soft_dma_port_kick(link->adc_port);
}
EXPORT_SYMBOL_NS_GPL(izc_sim_link_dac_stop, IIO_ZEROCOPY);

/* Widen the DAC's assembled frame to a wire frame and put it. */
static u64 izc_sim_link_dac_frame(struct izc_sim_link *link)
{
	struct izc_sim_link_end *dac = &link->dac;
	u8 wire[IZC_SIM_LINK_MAX_FRAME];
	unsigned int i;

	memset(wire, 0, link->wire);
	for (i = 0; i < dac->nactive; i++)
		memcpy(wire + dac->active[i] * link->sb,
		       dac->stage + i * link->sb, link->sb);
	dac->stage_len = 0;

	return izc_sim_link_put(link, wire, link->wire);
}

/**
 * izc_sim_link_dac_push - the DAC emits @len bytes of its stream
 * @link: a paired link
 * @src: the bytes (frames of the DAC's enabled channels), or NULL for idle
 * @len: any length; a frame may be split across calls. Idle is O(1) in
 *	@len, however long an underflow lasted.
 *
 * Context: the DAC's DMA worker.
 * Return: frames dropped for want of room in the FIFO (never when @len is
 * within what izc_sim_link_dac_avail() said).
 */
u64 izc_sim_link_dac_push(struct izc_sim_link *link, const void *src,
			  size_t len)
{
	struct izc_sim_link_end *dac = &link->dac;
	struct izc_sample_port *kick = NULL;
	const u8 *p = src;
	u64 dropped = 0, head;
	size_t k;

	spin_lock(&link->lock);
	head = link->head;
	if (!dac->frame_bytes)
		len = 0;
	while (len) {
		if (!dac->stage_len && dac->nactive == link->nchan &&
		    len >= link->wire) {
			/* Every channel: DAC frames are wire frames. */
			k = rounddown(len, link->wire);
			dropped += izc_sim_link_put(link, p, k);
		} else if (!p && !dac->stage_len && len >= dac->frame_bytes) {
			/* Idle frames widen to all-zero wire frames: in O(1) */
			k = rounddown(len, dac->frame_bytes);
			dropped += izc_sim_link_put(link, NULL,
						    k / dac->frame_bytes *
						    link->wire);
		} else {
			k = min_t(size_t, len, dac->frame_bytes - dac->stage_len);
			if (p)
				memcpy(dac->stage + dac->stage_len, p, k);
			else
				memset(dac->stage + dac->stage_len, 0, k);
			dac->stage_len += k;
			if (dac->stage_len == dac->frame_bytes)
				dropped += izc_sim_link_dac_frame(link);
		}
		if (p)
			p += k;
		len -= k;
	}
	if (link->head != head && link->adc_waiting) {
		link->adc_waiting = false;
		kick = link->adc_port;
	}
	spin_unlock(&link->lock);

	if (kick)
		izc_soft_dma_port_kick(kick);
	return dropped;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_link_dac_push, IIO_ZEROCOPY);

/**
 * izc_sim_link_dac_avail - bytes the DAC can emit without a drop
 * @link: a paired link
 *
 * Context: the DAC's DMA worker (its port's avail()).
 * Return: SIZE_MAX while the ADC does not stream (the output goes nowhere);
 * else the room in the FIFO, in bytes of the DAC's stream. When 0, the DAC's
 * port is kicked once the ADC took frames.
 */
size_t izc_sim_link_dac_avail(struct izc_sim_link *link)
{
	struct izc_sim_link_end *dac = &link->dac;
	size_t frames, n = SIZE_MAX;

	spin_lock(&link->lock);
	if (link->adc_streaming && link->ring) {
		frames = (link->cap - izc_sim_link_used(link)) / link->wire;
		n = frames * dac->frame_bytes;
		n = n > dac->stage_len ? n - dac->stage_len : 0;
		if (!n)
			link->dac_waiting = true;
	}
	spin_unlock(&link->lock);

	return n;
}
EXPORT_SYMBOL_NS_GPL(izc_sim_link_dac_avail, IIO_ZEROCOPY);

/* ---- the ADC's end ----------------------------------------------------- */

/**
 * izc_sim_link_adc_start - the ADC starts a stream
 * @link: the ADC's link
 * @mask: the ADC's enabled channels
 * @paced: the ADC runs paced (captures idle while the DAC does not stream)
 *
 * The FIFO starts empty; if the DAC streams already, with the latency's
 * idle frames.
 *
 * Context: process context, the ADC's DMA not running.
 * Return: true if a DAC is paired: the ADC captures the wire for this
 * stream (izc_sim_link_adc_fill()), false for its own waveform.
 */
bool izc_sim_link_adc_start(struct izc_sim_link *link,
			    const unsigned long *mask, bool paced)
{
	struct izc_sample_port *kick;
	bool paired;

	spin_lock(&link->lock);
	izc_sim_link_end_start(link, &link->adc, mask);
	link->adc_paced = paced;
	link->adc_waiting = false;
	izc_sim_link_reset(link);
	link->adc_streaming = true;
	if (link->dac_streaming)
		izc_sim_link_put(link, NULL, (size_t)link->latency * link->wire);
	paired = link->dac_port;
	kick = link->dac_port;
	spin_unlock(&link->lock);

	/* A DAC that waited for room now has it. */
	if (kick)
		izc_soft_dma_port_kick(kick);
	return paired;
}

/**
 * izc_sim_link_adc_stop - the ADC's stream ended; the FIFO is emptied
 * @link: the ADC's link
 *
 * Context: process context, the ADC's DMA stopped.
 */
void izc_sim_link_adc_stop(struct izc_sim_link *link)
{
	struct izc_sample_port *kick;

	spin_lock(&link->lock);
	link->adc_streaming = false;
	izc_sim_link_reset(link);
	kick = link->dac_port;
	spin_unlock(&link->lock);

	/* A DAC that waited for room now emits into nothing. */
	if (kick)
		izc_soft_dma_port_kick(kick);
}

/* Narrow the next wire frame (or an idle one) into the ADC's stage. */
static void izc_sim_link_adc_frame(struct izc_sim_link *link, bool idle)
{
	struct izc_sim_link_end *adc = &link->adc;
	u8 wire[IZC_SIM_LINK_MAX_FRAME];
	unsigned int i;

	if (idle) {
		memset(adc->stage, 0, adc->frame_bytes);
	} else {
		izc_sim_link_get(link, wire, link->wire);
		for (i = 0; i < adc->nactive; i++)
			memcpy(adc->stage + i * link->sb,
			       wire + adc->active[i] * link->sb, link->sb);
	}
	adc->stage_len = adc->frame_bytes;
	adc->stage_off = 0;
}

/**
 * izc_sim_link_adc_fill - the ADC captures @len bytes of the wire
 * @link: the ADC's link
 * @dst: where to, or NULL to drop them (overrun, null DMA mode)
 * @len: any length; a frame may be split across calls. Dropping is O(1) in
 *	@len, however long an overrun lasted.
 *
 * Frames come from the FIFO; when it is empty (the DAC does not stream, or
 * a race with the DAC stopping) the ADC captures idle frames.
 *
 * Context: the ADC's DMA worker.
 */
void izc_sim_link_adc_fill(struct izc_sim_link *link, void *dst, size_t len)
{
	struct izc_sim_link_end *adc = &link->adc;
	struct izc_sample_port *kick = NULL;
	bool full = izc_sim_link_end_full(link, adc);
	u8 *p = dst;
	u64 tail;
	size_t k, used, frames;

	spin_lock(&link->lock);
	tail = link->tail;
	if (!adc->frame_bytes)
		len = 0;
	while (len) {
		used = link->ring ? izc_sim_link_used(link) : 0;
		if (adc->stage_off < adc->stage_len) {
			k = min_t(size_t, len, adc->stage_len - adc->stage_off);
			if (p)
				memcpy(p, adc->stage + adc->stage_off, k);
			adc->stage_off += k;
		} else if (full && used) {
			/* Every channel: wire bytes are the ADC's bytes. */
			k = min_t(size_t, len, used);
			izc_sim_link_get(link, p, k);
		} else if (!p && len >= adc->frame_bytes) {
			/*
			 * Whole frames dropped: no need to narrow them. The
			 * FIFO's frames go first, then idle ones (nothing to
			 * take): O(1) in @len.
			 */
			k = rounddown(len, adc->frame_bytes);
			frames = used / link->wire;
			if (frames) {
				k = min_t(size_t, k, frames * adc->frame_bytes);
				izc_sim_link_get(link, NULL, k / adc->frame_bytes *
							 link->wire);
			}
		} else {
			izc_sim_link_adc_frame(link, used < link->wire);
			continue;
		}
		if (p)
			p += k;
		len -= k;
	}
	if (link->tail != tail && link->dac_waiting) {
		link->dac_waiting = false;
		kick = link->dac_port;
	}
	spin_unlock(&link->lock);

	if (kick)
		izc_soft_dma_port_kick(kick);
}

/**
 * izc_sim_link_adc_avail - bytes the ADC can capture now
 * @link: the ADC's link
 *
 * Context: the ADC's DMA worker (its port's avail()).
 * Return: SIZE_MAX when the ADC is paced and the DAC does not stream (idle
 * frames after what the FIFO holds); else what the FIFO holds, in bytes of
 * the ADC's stream. When 0, the ADC's port is kicked once frames arrive.
 */
size_t izc_sim_link_adc_avail(struct izc_sim_link *link)
{
	struct izc_sim_link_end *adc = &link->adc;
	size_t n, used;

	spin_lock(&link->lock);
	if (link->adc_paced && !link->dac_streaming) {
		n = SIZE_MAX;
	} else {
		used = link->ring ? izc_sim_link_used(link) : 0;
		if (!izc_sim_link_end_full(link, adc))
			used = used / link->wire * adc->frame_bytes;
		n = used + adc->stage_len - adc->stage_off;
		if (!n)
			link->adc_waiting = true;
	}
	spin_unlock(&link->lock);

	return n;
}

/**
 * izc_sim_link_show_dac - sysfs: the label of the paired DAC or "none"
 * @link: the ADC's link
 * @buf: the sysfs page
 *
 * Return: bytes written.
 */
ssize_t izc_sim_link_show_dac(struct izc_sim_link *link, char *buf)
{
	ssize_t ret;

	/* The label lives as long as the pairing, which the lock pins. */
	spin_lock(&link->lock);
	ret = sysfs_emit(buf, "%s\n", link->dac_label ?: "none");
	spin_unlock(&link->lock);

	return ret;
}
