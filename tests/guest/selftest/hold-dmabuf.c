// SPDX-License-Identifier: GPL-2.0
/*
 * Bench self-test: leaves a process holding a DMABUF from the system heap,
 * so a DMABUF is still exported after the test; the runner must fail the
 * test on it (a leaked DMABUF reference looks the same). Run it last: the
 * holder lives until poweroff.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dma-heap.h>

int main(void)
{
	struct dma_heap_allocation_data alloc = {.len = 4096, .fd_flags = O_RDWR};
	int heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);

	printf("TAP version 13\n1..1\n");
	if (heap < 0 || ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &alloc)) {
		printf("not ok 1 - a DMABUF from /dev/dma_heap/system\n");
		return 1;
	}
	fflush(stdout);
	if (fork() == 0) {
		/* Detached from the test's output, so the runner does not wait for it. */
		setsid();
		close(STDOUT_FILENO);
		close(STDERR_FILENO);
		pause();
		_exit(0);
	}
	printf("ok 1 - DMABUF fd %d held by a background process\n", (int)alloc.fd);
	return 0;
}
