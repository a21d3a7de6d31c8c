package dionode.node.device;

import java.util.concurrent.atomic.LongAdder;

/**
 * Bytes a device moved, counted once each transfer is done whole (kernel AIO or a blocking
 * pread/pwrite): what {@code device_bytes_total} shows. Thread-safe; counting never blocks.
 */
public final class DeviceTraffic {
    private final LongAdder read = new LongAdder();
    private final LongAdder written = new LongAdder();

    void moved(boolean write, long bytes) {
        (write ? written : read).add(bytes);
    }

    public long bytesRead() {
        return read.sum();
    }

    public long bytesWritten() {
        return written.sum();
    }
}
