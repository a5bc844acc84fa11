/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libizc internals shared between the source files. Not installed.
 */
#ifndef IZC_INTERNAL_H
#define IZC_INTERNAL_H

#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "izc.h"

#define IZC_EXPORT __attribute__((visibility("default")))

/* sysfs.c: small file I/O helpers; all return 0/length or -errno. */
int izc_read_file(const char *path, char *buf, size_t len);
int izc_write_file(const char *path, const char *value);
int izc_read_file_ll(const char *path, long long *val);
int izc_path(char *out, size_t len, const char *dir, const char *name);

struct izc_channel {
	struct izc_buffer *buf;
	char *id;      /* "in_voltage0" */
	char *en_path; /* full path of the _en file */
	unsigned int index;
	struct izc_scan_type type;
};

struct izc_buffer {
	struct izc_device *dev;
	unsigned int index;
	enum izc_direction dir;
	char *attr_dir; /* bufferN/ or legacy buffer/ */
	struct izc_channel *channels;
	unsigned int nchannels;
};

struct izc_device {
	struct izc_context *ctx;
	unsigned int number;
	char *id;    /* "iio:deviceN" */
	char *path;  /* sysfs directory */
	char *node;  /* dev_root/iio:deviceN */
	char *name;  /* "" if none */
	char *label; /* NULL if none */
	struct izc_buffer *buffers;
	unsigned int nbuffers;
};

struct izc_context {
	char *sysfs_root;
	char *dev_root;
	struct izc_device *devices;
	unsigned int ndevices;
};

/* ---- streams ---- */

enum izc_block_state {
	IZC_BLOCK_IDLE,	  /* held by the library */
	IZC_BLOCK_APP,	  /* held by the application */
	IZC_BLOCK_QUEUED, /* with a device, in some stream's queue */
};

struct izc_block {
	struct izc_stream *stream; /* owner */
	unsigned int index;
	enum izc_block_state state;
	size_t size;
	size_t bytes_used;
	bool cyclic;   /* queued with IZC_BLOCK_CYCLIC */
	bool deferred; /* queued on a stopped stream: goes to the kernel at start */
	bool parked;   /* DMABUF: submitted, but the enable after failed: waits for one */
	/* DMABUF */
	int dmabuf_fd;
	unsigned long long ino;	 /* identity of the DMABUF, for attach caches */
	int fence_fd;		 /* sync file of the last submission, -1 if none */
	int fence_err;		 /* < 0: the outcome the last submission's arm found */
	uint64_t armed_ns;	 /* CLOCK_MONOTONIC just after that snapshot */
	bool seen_idle;		 /* a poll found it complete since its last submission */
	void *map;		 /* lazily mmap()ed */
	unsigned int cpu_access; /* IZC_ACCESS_* while CPU access is open */
	/* fileio */
	void *mem;
	size_t fill; /* fileio: bytes read (input) or written (output) so far */
	bool cut;    /* fileio input: its fill is from before a restart, -EINTR */
	/* queue linkage */
	struct izc_stream *queued_in;
	struct izc_block *next;
};

struct izc_stream;

/* What a backend implements; tables are const. */
struct izc_backend_ops {
	enum izc_backend kind;
	/* Allocate/attach resources of every block. Called once at open. */
	int (*setup)(struct izc_stream *s);
	void (*teardown)(struct izc_stream *s);
	/* Hand a block (of any stream, for relays) to this stream's device. */
	int (*enqueue)(struct izc_stream *s, struct izc_block *b, size_t bytes, unsigned int flags);
	/*
	 * Wait for b, the head of s's queue, to complete. Returns 0 when it did,
	 * with *status 0 or the block's own error (it failed or was aborted);
	 * or a negative errno when it did not complete (timeout, cancel).
	 */
	int (*complete)(struct izc_stream *s, struct izc_block *b, int timeout_ms, int *status);
	/* Optional: the buffer is about to be enabled. */
	int (*prestart)(struct izc_stream *s);
	/* Optional: the buffer was just enabled. */
	int (*start)(struct izc_stream *s);
	/*
	 * Optional, output: after every queued block completed, wait (until
	 * deadline, izc_deadline() time) for what the device still holds.
	 */
	int (*drain)(struct izc_stream *s, long long deadline);
	int (*cpu_begin)(struct izc_block *b, unsigned int access, void **data);
	int (*cpu_end)(struct izc_block *b);
};

extern const struct izc_backend_ops izc_dmabuf_ops;
extern const struct izc_backend_ops izc_fileio_ops;

struct izc_stream {
	struct izc_device *dev;
	struct izc_buffer *buf;
	enum izc_direction dir;
	const struct izc_backend_ops *ops;
	int fallback_reason;
	unsigned int flags;
	int dev_fd; /* the device node: open only before 5.11 (buf_fd == dev_fd) */
	int buf_fd;
	int cancel_fd; /* eventfd */
	bool running;
	int last_status;	 /* of the last block completed, not aborted: 0 or -errno */
	uint64_t last_signal_ns; /* when that block's fence was signalled, if known */
	/* DMABUF input: the reader waits for the device, poll() before the fence status */
	bool dmabuf_wait_first;
	/* length / watermark before the stream set them (-1: not changed) */
	long long saved_length, saved_watermark;
	/* fileio output: data_available right after enable, all blocks free */
	long long fileio_idle;
	/* fileio output: an earlier block's transfer failed (-EIO), not yet told */
	int fileio_lost;
	size_t frame_size;
	unsigned int nblocks;
	size_t block_size;
	struct izc_block *blocks;
	/* Channels of the frame, for offsets. */
	unsigned int nenabled;
	const struct izc_channel **enabled;
	size_t *offsets;
	/* FIFO of queued blocks (own and relayed ones). */
	struct izc_block *qhead, *qtail;
	/* DMABUF identities attached to this stream's buffer (own and foreign). */
	unsigned long long *attached;
	unsigned int nattached, attached_cap;
	/* Streams this one relayed blocks to or received blocks from. */
	struct izc_stream **peers;
	unsigned int npeers, peers_cap;
};

/* stream.c helpers for backends */
/* Poll fd for events and the stream's cancel eventfd. 0, -ETIMEDOUT, -ECANCELED, -errno. */
/* ioctl() retried on EINTR; its result, or -errno. */
int izc_ioctl(int fd, unsigned long req, void *arg);
int izc_stream_poll(struct izc_stream *s, int fd, short events, int timeout_ms);
/*
 * poll() pfd[0..n-1] plus the stream's cancel eventfd, which the function
 * puts in pfd[n] (the array has n + 1 entries). Returns 0 once pfd[0] has
 * one of its events or any other entry has revents: the caller reads them
 * (and must not poll an entry that is ready again, which would not wait).
 */
int izc_stream_poll_many(struct izc_stream *s, struct pollfd *pfd, unsigned int n, int timeout_ms);
/* Alignment of fileio block memory (a cache line). */
#define IZC_FILEIO_ALIGN 64
/* size rounded up to a multiple of align; 0 if that does not fit a size_t. */
size_t izc_round_up(size_t size, size_t align);
/* The page size DMABUF sizes are rounded to (4096 if sysconf() cannot tell). */
size_t izc_page_size(void);
/* Remaining time until deadline (CLOCK_MONOTONIC ns, < 0: none) as a poll timeout. */
int izc_timeout_left(long long deadline_ns);
long long izc_deadline(int timeout_ms);

/* dmabuf.c */
int izc_dmabuf_attach_cached(struct izc_stream *s, const struct izc_block *b);
/* Detach every block of owner from s's buffer (owner is being closed). */
void izc_dmabuf_detach_owner(struct izc_stream *s, const struct izc_stream *owner);
int izc_dmabuf_wait(struct izc_stream *s, struct izc_block *b, int timeout_ms);
/* Snapshot the fences of a submission of b just made, for the status at completion. */
void izc_dmabuf_arm_fence(struct izc_block *b);

#endif /* IZC_INTERNAL_H */
