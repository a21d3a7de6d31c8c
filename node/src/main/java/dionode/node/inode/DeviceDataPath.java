package dionode.node.inode;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.device.IoExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The real data path: O_DIRECT reads and writes through pooled aligned buffers. A request of one
 * segment (the usual case) is started from the caller's thread with kernel AIO when the device
 * can take it without blocking, and completes on the AIO completion thread; everything else (more
 * segments, no AIO, the ring full, a transfer the kernel would block for) runs on the I/O
 * executor's threads. Thread-safe.
 */
public final class DeviceDataPath implements DataPath {
    private final BlockDevice dev;
    private final IoExecutor io;
    private final AlignedBuffers buffers;

    private final boolean async;

    /** With kernel AIO where the device has it. */
    public DeviceDataPath(BlockDevice dev, IoExecutor io, AlignedBuffers buffers) {
        this(dev, io, buffers, true);
    }

    /** @param kernelAio false: every transfer on the I/O threads, as on a device without kernel AIO */
    public DeviceDataPath(BlockDevice dev, IoExecutor io, AlignedBuffers buffers, boolean kernelAio) {
        this.dev = dev;
        this.io = io;
        this.buffers = buffers;
        this.async = kernelAio && dev.hasAsync();
    }

    @Override
    public CompletableFuture<Void> write(List<WriteSeg> segs) {
        if (segs.size() == 1 && async) {
            WriteSeg s = segs.get(0);
            ByteBuffer buf = filled(s);
            CompletableFuture<Void> started = start(() -> dev.writeAsync(s.deviceOffset(), buf), buf);
            if (started != null) {
                return started;
            }
            return releasing(io.submit(() -> {
                dev.write(s.deviceOffset(), buf);
                return null;
            }), buf);
        }
        return io.submit(() -> {
            for (WriteSeg s : segs) {
                ByteBuffer buf = filled(s);
                try {
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
        if (segs.size() == 1 && async) {
            ReadSeg s = segs.get(0);
            ByteBuffer buf = buffers.acquire(s.length());
            buf.position(0).limit(s.length());
            CompletableFuture<Void> started = start(() -> dev.readAsync(s.deviceOffset(), buf), null);
            if (started != null) {
                // the copy out happens where the read ends, before the request sees it done
                return releasing(started.thenRun(() -> buf.get(s.skip(), s.dst(), s.dstOffset(), s.copyLength())), buf);
            }
            buffers.release(buf);
        }
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

    /** A transfer that cannot start asynchronously now is null; one that fails to start is a failed future. */
    @FunctionalInterface
    private interface AsyncStart {
        CompletableFuture<Void> start() throws IOException;
    }

    /**
     * Starts a kernel AIO transfer from the calling thread (the inode actor's: io_submit with
     * RWF_NOWAIT never blocks it), {@code buf} released when it ends if given; null if the device
     * cannot start it now.
     */
    private CompletableFuture<Void> start(AsyncStart transfer, ByteBuffer releaseAfter) {
        CompletableFuture<Void> started;
        try {
            started = transfer.start();
        } catch (IOException | RuntimeException e) {
            if (releaseAfter != null) {
                buffers.release(releaseAfter);
            }
            return CompletableFuture.failedFuture(e);
        }
        return started == null || releaseAfter == null ? started : releasing(started, releaseAfter);
    }

    /** {@code transfer}, with {@code buf} back in the pool before anyone learns the transfer ended. */
    private CompletableFuture<Void> releasing(CompletableFuture<Void> transfer, ByteBuffer buf) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        transfer.whenComplete((v, e) -> {
            buffers.release(buf);
            if (e != null) {
                done.completeExceptionally(e instanceof java.util.concurrent.CompletionException c && c.getCause() != null ? c.getCause() : e);
            } else {
                done.complete(null);
            }
        });
        return done;
    }

    /** An aligned buffer holding what {@code s} writes: the caller's bytes, zero-padded to whole sectors where asked. */
    private ByteBuffer filled(WriteSeg s) {
        ByteBuffer buf = buffers.acquire(s.length());
        if (s.zeroPadded()) {
            zero(buf, s.length());
        }
        buf.put(s.bufferOffset(), s.src(), s.srcOffset(), s.copyLength());
        buf.position(0).limit(s.length());
        return buf;
    }

    private static final byte[] ZEROS = new byte[64 << 10];

    private static void zero(ByteBuffer buf, int length) {
        for (int off = 0; off < length; off += ZEROS.length) {
            buf.put(off, ZEROS, 0, Math.min(ZEROS.length, length - off));
        }
    }
}
