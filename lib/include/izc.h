/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libizc: zero-copy streaming for Linux IIO devices.
 *
 * Object model
 *   izc_context  one sysfs tree (default /sys/bus/iio/devices) and dev root
 *   izc_device   one iio:deviceN: name, label, attributes, buffers
 *   izc_buffer   one bufferN of a device: attributes, channels (scan elements)
 *   izc_channel  one scan element: index, parsed scan type, enable
 *   izc_stream   a running data path on one buffer: N blocks of S bytes,
 *                backend DMABUF (zero-copy) or fileio (read()/write())
 *   izc_block    one block of a stream
 * Devices, buffers and channels belong to their context and live until
 * izc_context_close(); blocks belong to their stream.
 *
 * Conventions
 *   - Every function that can fail returns int: >= 0 on success, a negative
 *     errno value on failure. errno is not used to report errors.
 *   - Functions that produce an object (open, find, get) return int and store
 *     the object through a last out-pointer argument, which is left untouched
 *     on failure. No function returns a pointer that may be NULL on error.
 *   - Accessors of fixed properties (names, sizes) cannot fail and return the
 *     value directly. izc_device_label() returns NULL when a device has none.
 *   - A NULL object or out-pointer makes every int-returning function return
 *     -EINVAL; the count accessors and izc_scan_type_bytes() return 0 for
 *     NULL, izc_sample_to_int() 0 for NULL or an invalid type. Other
 *     accessors (names, pointers) require a valid object.
 *   - Lookups: no device of that name/label -> -ENODEV; no buffer of that
 *     number -> -ENODEV (as the kernel's IIO_BUFFER_GET_FD_IOCTL); no channel
 *     of that id -> -ENOENT; a position out of range (device or channel
 *     index) -> -EINVAL; a sysfs attribute that does not exist -> -ENOENT
 *     (the errno of open()).
 *   - Timeouts are in milliseconds: < 0 waits forever, 0 does not wait.
 *   - File descriptors are plain ints, opened O_CLOEXEC.
 *   - Threads: the library has no global state. Different contexts and
 *     streams may be used concurrently from different threads. One stream
 *     (and the context it was opened from, for sysfs writes) must be used by
 *     one thread at a time, except izc_stream_cancel(), which any thread may
 *     call at any time between the stream's open and its close: the caller
 *     must make sure no call to it is running or can start once
 *     izc_stream_close() begins (the stream's memory and eventfd go away).
 *   - No configuration is taken from the environment.
 */
#ifndef IZC_H
#define IZC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IZC_VERSION_MAJOR 0
#define IZC_VERSION_MINOR 2
/* (major << 16) | minor of the headers compiled against */
#define IZC_VERSION ((IZC_VERSION_MAJOR << 16) | IZC_VERSION_MINOR)

/* (major << 16) | minor of the library linked at run time. */
unsigned int izc_version(void);

struct izc_context;
struct izc_device;
struct izc_buffer;
struct izc_channel;
struct izc_stream;
struct izc_block;

/* ------------------------------------------------------------------ */
/* Scan types, frame layout, samples (pure functions, no I/O)          */
/* ------------------------------------------------------------------ */

/*
 * A parsed IIO scan type, e.g. "le:s12/16>>4" or "be:u16/32X4>>0":
 * endianness, sign, realbits / storagebits, optional X repeat, >> shift.
 */
struct izc_scan_type {
	bool is_signed;
	bool is_be;
	unsigned int realbits;	  /* 1..storagebits */
	unsigned int storagebits; /* whole bytes: 8, 16, 24, ... 64 */
	unsigned int shift;	  /* realbits + shift <= storagebits */
	unsigned int repeat;	  /* >= 1; 1 when there is no X part */
};

/*
 * Parse the text of a scan element's _type file (a trailing newline is
 * accepted). Returns 0, or -EINVAL for anything that is not a complete,
 * consistent scan type (st is then untouched).
 */
int izc_scan_type_parse(const char *str, struct izc_scan_type *st);

/* Write the kernel's text form of st into buf. Returns the length or -ENOSPC/-EINVAL. */
int izc_scan_type_format(const struct izc_scan_type *st, char *buf, size_t len);

/* Bytes one element occupies in a frame: storagebits / 8 * repeat. */
size_t izc_scan_type_bytes(const struct izc_scan_type *st);

/*
 * Frame layout as the IIO core computes it: elements of the n enabled
 * channels in scan-index order, each aligned to its own size, the frame
 * padded to a multiple of its largest element. offsets[i] receives the byte
 * offset of types[i] (offsets may be NULL), *frame_size the total.
 * Returns 0 or -EINVAL (n == 0 or an invalid type).
 */
int izc_scan_layout(const struct izc_scan_type *types, size_t n, size_t *offsets,
		    size_t *frame_size);

/*
 * Copy one element of elem_size bytes at byte offset within each of nframes
 * frames of frame_size bytes into out (packed, nframes * elem_size bytes).
 * Returns 0 or -EINVAL if the element does not fit in a frame.
 */
int izc_demux(const void *frames, size_t nframes, size_t frame_size, size_t offset,
	      size_t elem_size, void *out);

/*
 * Convert one raw sample (storagebits / 8 bytes at raw, as found in a frame)
 * to an integer: byte order, >> shift, realbits mask, sign extension.
 * Unsigned 64-bit samples above INT64_MAX are returned modulo 2^64.
 */
int64_t izc_sample_to_int(const struct izc_scan_type *st, const void *raw);

/* (izc_sample_to_int() + offset) * scale, the IIO ABI's processed value. */
double izc_sample_to_double(const struct izc_scan_type *st, const void *raw, double scale,
			    double offset);

/* ------------------------------------------------------------------ */
/* Context and discovery                                               */
/* ------------------------------------------------------------------ */

/*
 * Scan sysfs_root (NULL: "/sys/bus/iio/devices") for iio:deviceN entries;
 * device nodes are looked up under dev_root (NULL: "/dev").
 * A device that cannot be read (unplugged during the scan, an unreadable
 * or malformed buffer attribute) is left out; the others are there. A
 * channel whose scan type cannot be laid out is kept with a zeroed scan
 * type (storagebits 0): frames with it enabled are -EINVAL.
 * Returns 0, -ENOMEM, or the errno of opening sysfs_root.
 */
int izc_context_open(const char *sysfs_root, const char *dev_root, struct izc_context **ctx);
void izc_context_close(struct izc_context *ctx);

/* Devices, sorted by their number N. */
unsigned int izc_context_device_count(const struct izc_context *ctx);
int izc_context_get_device(const struct izc_context *ctx, unsigned int index,
			   struct izc_device **dev);
/*
 * Find a device by its id ("iio:device3"), its label, or its name, in that
 * order of preference; the first match in device order wins. -ENODEV if none.
 */
int izc_context_find_device(const struct izc_context *ctx, const char *name,
			    struct izc_device **dev);

const char *izc_device_id(const struct izc_device *dev);      /* "iio:deviceN" */
const char *izc_device_name(const struct izc_device *dev);    /* "" if no name file */
const char *izc_device_label(const struct izc_device *dev);   /* NULL if no label */
unsigned int izc_device_number(const struct izc_device *dev); /* N */

/*
 * Device attributes (files in the device's sysfs directory, e.g.
 * "sampling_frequency"). Reads strip the trailing newline and return the
 * string length; -ENAMETOOLONG if buf is too small.
 */
int izc_device_attr_read(const struct izc_device *dev, const char *attr, char *buf, size_t len);
int izc_device_attr_write(const struct izc_device *dev, const char *attr, const char *value);
int izc_device_attr_read_ll(const struct izc_device *dev, const char *attr, long long *val);
int izc_device_attr_write_ll(const struct izc_device *dev, const char *attr, long long val);

/*
 * Buffers: bufferN directories (kernel 5.11+), or the legacy buffer/ +
 * scan_elements/ pair as buffer 0. izc_device_get_buffer() takes the buffer's
 * number N, not a position: -ENODEV if the device has no bufferN.
 */
unsigned int izc_device_buffer_count(const struct izc_device *dev);
int izc_device_get_buffer(const struct izc_device *dev, unsigned int index,
			  struct izc_buffer **buf);

enum izc_direction {
	IZC_DIR_IN,  /* capture: device -> memory */
	IZC_DIR_OUT, /* transmit: memory -> device */
};

unsigned int izc_buffer_index(const struct izc_buffer *buf);
struct izc_device *izc_buffer_device(const struct izc_buffer *buf);
/* From the buffer's direction file; IZC_DIR_IN when the file is absent. */
enum izc_direction izc_buffer_direction(const struct izc_buffer *buf);

/* Buffer attributes (length, watermark, enable, data_available, ...). */
int izc_buffer_attr_read(const struct izc_buffer *buf, const char *attr, char *out, size_t len);
int izc_buffer_attr_write(const struct izc_buffer *buf, const char *attr, const char *value);
int izc_buffer_attr_read_ll(const struct izc_buffer *buf, const char *attr, long long *val);
int izc_buffer_attr_write_ll(const struct izc_buffer *buf, const char *attr, long long val);
/* Shorthands; 1/0 for izc_buffer_enabled(). */
int izc_buffer_enabled(const struct izc_buffer *buf);
int izc_buffer_set_enabled(const struct izc_buffer *buf, bool enable);
int izc_buffer_set_length(const struct izc_buffer *buf, unsigned long long frames);
int izc_buffer_set_watermark(const struct izc_buffer *buf, unsigned long long frames);
int izc_buffer_data_available(const struct izc_buffer *buf, unsigned long long *frames);

/* Channels (scan elements), sorted by scan index. */
unsigned int izc_buffer_channel_count(const struct izc_buffer *buf);
int izc_buffer_get_channel(const struct izc_buffer *buf, unsigned int index,
			   struct izc_channel **ch);
/* By id ("in_voltage0") or id without the direction ("voltage0"). -ENOENT if none. */
int izc_buffer_find_channel(const struct izc_buffer *buf, const char *id, struct izc_channel **ch);
/*
 * Enable exactly the channels whose scan index bit is set in mask, disable
 * the others. -ERANGE if mask names an index >= 64 or one no channel has.
 */
int izc_buffer_set_scan_mask(const struct izc_buffer *buf, uint64_t mask);
/* Size of one frame for the channels enabled now (read from sysfs); -EINVAL if none. */
int izc_buffer_frame_size(const struct izc_buffer *buf, size_t *frame_size);

const char *izc_channel_id(const struct izc_channel *ch); /* "in_voltage0" */
unsigned int izc_channel_scan_index(const struct izc_channel *ch);
/* All zero (storagebits 0) if the kernel's type could not be parsed. */
const struct izc_scan_type *izc_channel_scan_type(const struct izc_channel *ch);
/* 1 if enabled, 0 if not (read from sysfs each time). */
int izc_channel_enabled(const struct izc_channel *ch);
int izc_channel_enable(const struct izc_channel *ch, bool enable);

/* ------------------------------------------------------------------ */
/* Streams and blocks                                                  */
/* ------------------------------------------------------------------ */

enum izc_backend {
	IZC_BACKEND_DMABUF, /* blocks are DMABUFs attached to the IIO buffer */
	IZC_BACKEND_FILEIO, /* blocks are malloc()ed, moved with read()/write() */
};

/* izc_stream_open() flags */
#define IZC_STREAM_UDMABUF     (1u << 0) /* DMABUFs from /dev/udmabuf, not the system heap */
#define IZC_STREAM_FILEIO      (1u << 1) /* do not try DMABUF */
#define IZC_STREAM_NO_FALLBACK (1u << 2) /* DMABUF or fail: no fileio fallback */

/* izc_block_enqueue() flags */
#define IZC_BLOCK_CYCLIC (1u << 0) /* output only: repeat this block until stopped */

/* izc_block_cpu_begin() access */
#define IZC_ACCESS_READ	 (1u << 0)
#define IZC_ACCESS_WRITE (1u << 1)

/*
 * Open a stream on buffer buffer_index of dev, with nblocks blocks of
 * block_size bytes (a multiple of the frame size of the channels enabled
 * now; the channel set is fixed for the life of the stream).
 *
 * The buffer must be disabled; the stream sets its length (and, for fileio,
 * its watermark) and leaves it disabled until izc_stream_start().
 *
 * Backend: DMABUF unless IZC_STREAM_FILEIO. If the kernel or driver cannot
 * do DMABUF (EPERM: buffer without DMABUF ops; ENODEV; ENOTTY: kernels
 * before 6.11; EINVAL: a buffer ioctl handler without the DMABUF commands,
 * or on 6.11+ an ATTACH the exporter refused, see docs/library.md, or a
 * block_size that is not a multiple of the buffer's length_align_bytes, the
 * DMA's bus word, which only DMABUF transfers must respect; ENOENT:
 * no DMA heap or udmabuf device) the stream
 * falls back to fileio, unless IZC_STREAM_NO_FALLBACK, in which case that
 * error is returned. izc_stream_backend() and izc_stream_fallback_reason()
 * say what happened.
 *
 * The device node (dev_root/iio:deviceN, exclusive: a second open() is
 * EBUSY) is open only while the stream gets its buffer fd, so other
 * programs (izc-info) and streams on the device's other buffers can open it
 * meanwhile; the buffer itself stays exclusive. Kernels before 5.11, where
 * buffer 0 is read on the node, keep it open for the stream's life.
 *
 * Errors: -EINVAL (bad arguments, direction not the buffer's, block_size
 * not a multiple of the frame size or too large to round up to the page
 * size, no channel enabled), -EBUSY (buffer
 * enabled or opened elsewhere, or the device node open elsewhere at that
 * moment), -ENODEV (no such buffer), -ENOMEM, or the errno of a failing
 * system call.
 */
int izc_stream_open(struct izc_device *dev, unsigned int buffer_index, enum izc_direction dir,
		    unsigned int nblocks, size_t block_size, unsigned int flags,
		    struct izc_stream **stream);
/*
 * Stops the stream if running and frees everything; blocks become invalid.
 * Its blocks relayed to other streams are taken out of their queues and
 * detached from their buffers; blocks of other streams relayed to it go back
 * to their streams (not handed out). So streams linked by izc_block_relay()
 * must not be in use on other threads while one of them is closed.
 * izc_stream_cancel() may not race with izc_stream_close() either: "any
 * time" means while the stream is open; the caller must make sure no
 * thread still calls it once close begins.
 */
void izc_stream_close(struct izc_stream *stream);

enum izc_backend izc_stream_backend(const struct izc_stream *stream);
const char *izc_backend_name(enum izc_backend backend); /* "dmabuf", "fileio" */
/* The negative errno that made the stream fall back to fileio, 0 if it did not. */
int izc_stream_fallback_reason(const struct izc_stream *stream);

enum izc_direction izc_stream_direction(const struct izc_stream *stream);
unsigned int izc_stream_block_count(const struct izc_stream *stream);
size_t izc_stream_block_size(const struct izc_stream *stream);
size_t izc_stream_frame_size(const struct izc_stream *stream);
/* Byte offset of ch in a frame of this stream; -ENOENT if ch is not enabled in it. */
int izc_stream_channel_offset(const struct izc_stream *stream, const struct izc_channel *ch,
			      size_t *offset);
int izc_stream_get_block(const struct izc_stream *stream, unsigned int index,
			 struct izc_block **block);

/*
 * Enable the buffer. Input streams first enqueue every block the
 * application does not hold. Stop disables it; the kernel then completes or
 * aborts what was queued (aborted blocks dequeue as errors). Fileio input
 * does the same: after a stop, a queued block completes from what the
 * kernel buffer still holds, or dequeues at once as -EINTR (its partial
 * fill dropped), as DMABUF transfers aborted by the disable do. A block
 * still partly filled at the next start (a dequeue timed out before the
 * stop, none came between) dequeues as -EINTR too: its data never spans a
 * restart.
 * DMABUF blocks queued while stopped are submitted just before the enable.
 * If the enable fails (its error is returned, the stream stays stopped),
 * the kernel keeps them in the disabled buffer, and no uapi takes them
 * back: they dequeue as -ENOBUFS (no wait) and run when a later
 * izc_stream_start() succeeds. Closing the stream instead leaves them
 * there until the buffer's next enable (docs/library.md).
 */
int izc_stream_start(struct izc_stream *stream);
int izc_stream_stop(struct izc_stream *stream);

/*
 * Get the next block for the application:
 *   output: a block never handed out yet, else the oldest queued block once
 *           the device has consumed it;
 *   input:  the oldest queued block once the device has filled it (blocks the
 *           library holds are re-enqueued first while the stream runs).
 * Waits up to timeout_ms. Returns 0 and the block, or
 *   -ETIMEDOUT   nothing completed in time (fileio input keeps the partial fill),
 *   -ECANCELED   izc_stream_cancel() was called,
 *   -ENOBUFS     nothing is queued that could complete,
 *   < 0          the kernel's error for an aborted or failed block (e.g. -EIO,
 *                -ECANCELED, -ETIMEDOUT as set on its fence): that block is
 *                not handed out; the library takes it back and reuses it.
 *                DMABUF, when the fence could not be read: the error of the
 *                fence export made right after the enqueue (e.g. -EMFILE),
 *                or -EIO for a fence already signalled at that export while
 *                the block dequeued before it was signalled only after that
 *                export (a submission the driver failed inside ENQUEUE; its
 *                own errno is lost). docs/library.md, "Fences", has the
 *                limits.
 * A block relayed into this stream from another is returned here too; the
 * application gives it back to its own stream with izc_block_enqueue().
 */
int izc_stream_dequeue(struct izc_stream *stream, int timeout_ms, struct izc_block **block);

/*
 * Make a current or the next izc_stream_dequeue() (or a blocking fileio
 * output enqueue, drain, izc_block_wait()) on this stream return
 * -ECANCELED. Safe from any thread and from signal handlers while the stream
 * is open; never during or after izc_stream_close() (see Conventions). One
 * cancel cancels one wait. A fileio output enqueue it cuts short after part
 * of the block was written returns 0 instead (see izc_block_enqueue()) and
 * leaves the cancel for the next wait.
 */
int izc_stream_cancel(struct izc_stream *stream);

/*
 * Output streams: wait until the device has sent every block queued on the
 * stream, so that izc_stream_stop() cuts nothing off. The blocks go back to
 * the library (relayed ones to their own streams) and izc_stream_dequeue()
 * hands them out again. DMABUF waits for each block's fence; fileio, whose
 * write() only copies into the kernel's blocks, also waits until the
 * buffer's data_available is back at the value it had when the stream
 * started (all kernel blocks free again: block DMA buffers count free bytes
 * there, FIFO buffers queued ones). Returns 0 or
 *   -EINVAL      an input stream,
 *   -ENOBUFS     blocks are queued but the stream is not started,
 *   -EBUSY       the last block queued is cyclic: it never ends,
 *   -ETIMEDOUT, -ECANCELED  as izc_stream_dequeue() (nothing is lost: call
 *                again),
 *   < 0          the first error a block completed with (aborted, failed).
 */
int izc_stream_drain(struct izc_stream *stream, int timeout_ms);

struct izc_stream *izc_block_stream(const struct izc_block *block);
unsigned int izc_block_index(const struct izc_block *block);
size_t izc_block_size(const struct izc_block *block);
/* Bytes of data in the block: what was enqueued, or read for fileio input. */
size_t izc_block_bytes_used(const struct izc_block *block);

/*
 * Give a block the application holds to its stream's device: bytes_used
 * bytes (0 = the whole block); flags: IZC_BLOCK_CYCLIC (output DMABUF
 * streams only: -EINVAL on input, -EOPNOTSUPP on fileio, which cannot
 * repeat a block without the CPU). Ends CPU access if still open. Fileio
 * output writes the data here (a blocking write, cancellable); as the
 * kernel only sends whole blocks through write(), a shorter block is padded
 * with zeros (mid-scale for the signed sample types of DACs) to its full
 * size, where DMABUF sends exactly bytes_used. Once the kernel has taken
 * any part of a fileio output block, the block is the stream's: if a
 * cancel or an error ends the write there, the enqueue still returns 0,
 * the rest of the block is written by the next enqueue, dequeue or drain
 * (before anything else), and the cancel stays pending for the next wait.
 * -ECANCELED (or another error) means nothing of the block was written and
 * the application still holds it. -EBUSY if the application does not hold
 * the block.
 */
int izc_block_enqueue(struct izc_block *block, size_t bytes_used, unsigned int flags);

/*
 * CPU access to a held block's data. DMABUF: maps it on first use and does
 * DMA_BUF_IOCTL_SYNC START (access: IZC_ACCESS_READ and/or _WRITE);
 * end does SYNC END. Fileio: no system call. Do not touch the data outside
 * begin/end. Blocks that are only relayed never need CPU access.
 */
int izc_block_cpu_begin(struct izc_block *block, unsigned int access, void **data);
int izc_block_cpu_end(struct izc_block *block);

/*
 * Enqueue a held DMABUF block on another stream (attaching it there on first
 * use) without CPU access, e.g. input -> output. It comes back through
 * izc_stream_dequeue(other). -EOPNOTSUPP if either stream is fileio.
 */
int izc_block_relay(struct izc_block *block, struct izc_stream *other, size_t bytes_used);

/*
 * The DMABUF fd of a block (owned by the library: do not close it), for
 * FunctionFS or other DMABUF importers. -EOPNOTSUPP for fileio blocks.
 */
int izc_block_dmabuf_fd(const struct izc_block *block);

/*
 * Wait until every device using a held block's DMABUF (e.g. a FunctionFS
 * endpoint) has finished with it; returns the fence error if one failed.
 * Cancellable with izc_stream_cancel() of the block's stream.
 */
int izc_block_wait(struct izc_block *block, int timeout_ms);

/* ------------------------------------------------------------------ */
/* FunctionFS DMABUF helpers (ep_fd: an open data endpoint, not ep0)   */
/* ------------------------------------------------------------------ */

int izc_ffs_attach(int ep_fd, const struct izc_block *block);
int izc_ffs_detach(int ep_fd, const struct izc_block *block);
/*
 * Queue length bytes (0 = bytes_used) of the block on the endpoint; wait
 * with izc_block_wait(). On a blocking ep_fd, f_fs first waits for the host
 * to enable the endpoint; a signal ends that wait with -EINTR (not retried).
 * With O_NONBLOCK: -EAGAIN while the endpoint is disabled.
 */
int izc_ffs_transfer(int ep_fd, struct izc_block *block, size_t length);

#ifdef __cplusplus
}
#endif

#endif /* IZC_H */
