/* SPDX-License-Identifier: GPL-2.0 */
/*
 * iio-zerocopy: IIO block DMA buffer bound to a dmaengine channel.
 *
 * A converter driver gets a complete DMA buffer (fileio and DMABUF) with one
 * call, naming the dmaengine slave channel it uses ("rx", "tx", ...). The
 * channel is requested with dma_request_chan(dev, channel), so it resolves
 * through devicetree, ACPI or a provider's dma_slave_map as usual.
 */
#ifndef __IZC_BUFFER_DMAENGINE_H__
#define __IZC_BUFFER_DMAENGINE_H__

#include <linux/bits.h>
#include <linux/iio/buffer.h>

struct device;
struct iio_dev;

/*
 * Flags of the _ext() variants.
 * IZC_DMAENGINE_BUFFER_NO_DMABUF: fileio (read()/write()) only; the IIO
 *	core then answers IIO_BUFFER_DMABUF_ATTACH_IOCTL with -EPERM, as for
 *	any buffer without DMABUF support.
 */
#define IZC_DMAENGINE_BUFFER_NO_DMABUF	BIT(0)

struct iio_buffer *izc_dmaengine_buffer_setup(struct device *dev,
					      struct iio_dev *indio_dev,
					      const char *channel,
					      enum iio_buffer_direction dir);
struct iio_buffer *izc_dmaengine_buffer_setup_ext(struct device *dev,
						  struct iio_dev *indio_dev,
						  const char *channel,
						  enum iio_buffer_direction dir,
						  unsigned int flags);
void izc_dmaengine_buffer_teardown(struct iio_buffer *buffer);

int devm_izc_dmaengine_buffer_setup(struct device *dev,
				    struct iio_dev *indio_dev,
				    const char *channel,
				    enum iio_buffer_direction dir);
int devm_izc_dmaengine_buffer_setup_ext(struct device *dev,
					struct iio_dev *indio_dev,
					const char *channel,
					enum iio_buffer_direction dir,
					unsigned int flags);

#endif /* __IZC_BUFFER_DMAENGINE_H__ */
