package dionode.node.inode;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.device.IoExecutor;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The real data path: O_DIRECT reads and writes on the I/O executor's threads, through pooled
 * aligned buffers. Thread-safe.
 */
public final class DeviceDataPath implements DataPath {
    private final BlockDevice dev;
    private final IoExecutor io;
    private final AlignedBuffers buffers;

    public DeviceDataPath(BlockDevice dev, IoExecutor io, AlignedBuffers buffers) {
        this.dev = dev;
        this.io = io;
        this.buffers = buffers;
    }

    @Override
    public CompletableFuture<Void> write(List<WriteSeg> segs) {
        return io.submit(() -> {
            for (WriteSeg s : segs) {
                ByteBuffer buf = buffers.acquire(s.length());
                try {
                    if (s.zeroPadded()) {
                        zero(buf, s.length());
                    }
                    buf.put(s.bufferOffset(), s.src(), s.srcOffset(), s.copyLength());
                    buf.position(0).limit(s.length());
                    dev.write(s.deviceOffset(), buf);
                } finally {
                    buffers.release(buf);
                }
            }
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> read(List<ReadSeg> segs) {
        return io.submit(() -> {
            for (ReadSeg s : segs) {
                ByteBuffer buf = buffers.acquire(s.length());
                try {
                    buf.position(0).limit(s.length());
                    dev.read(s.deviceOffset(), buf);
                    buf.get(s.skip(), s.dst(), s.dstOffset(), s.copyLength());
                } finally {
                    buffers.release(buf);
                }
            }
            return null;
        });
    }

    private static final byte[] ZEROS = new byte[64 << 10];

    private static void zero(ByteBuffer buf, int length) {
        for (int off = 0; off < length; off += ZEROS.length) {
            buf.put(off, ZEROS, 0, Math.min(ZEROS.length, length - off));
        }
    }
}
