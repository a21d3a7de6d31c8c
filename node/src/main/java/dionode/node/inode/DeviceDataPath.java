package dionode.node.inode;

import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.device.IoExecutor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The real data path: O_DIRECT reads and writes through pooled aligned buffers. Each segment of a
 * request (up to {@link #ASYNC_SEGMENTS}) is started from the caller's thread with kernel AIO when
 * the device can take it without blocking, and completes on the AIO completion thread; a segment
 * the ring cannot take now runs on the I/O executor's threads, and so does everything when there
 * is no AIO or the request has more segments. The segments of one request may land in any order
 * and, when one fails, the others may still land: the request fails, as a DIO write the kernel
 * fails part-way. Thread-safe.
 */
public final class DeviceDataPath implements DataPath {
    private final BlockDevice dev;
    private final IoExecutor io;
    private final AlignedBuffers buffers;

    /** Requests of more segments than this (rare: a write over many small extents) run on an I/O thread whole. */
    private static final int ASYNC_SEGMENTS = 8;
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
        if (async && segs.size() <= ASYNC_SEGMENTS) {
            return segs.size() == 1 ? writeOne(segs.get(0)) : all(segs.stream().map(this::writeOne).toList());
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
        if (async && segs.size() <= ASYNC_SEGMENTS) {
            return segs.size() == 1 ? readOne(segs.get(0)) : all(segs.stream().map(this::readOne).toList());
        }
        return io.submit(() -> {
            for (ReadSeg s : segs) {
                ByteBuffer buf = readBuffer(s);
                try {
                    dev.read(s.deviceOffset(), buf);
                    copyOut(buf, s);
                } finally {
                    buffers.release(buf);
                }
            }
            return null;
        });
    }

    /** One segment: with kernel AIO if the device takes it now, else on an I/O thread. */
    private CompletableFuture<Void> writeOne(WriteSeg s) {
        ByteBuffer buf = filled(s);
        CompletableFuture<Void> started = start(() -> dev.writeAsync(s.deviceOffset(), buf));
        return releasing(started != null ? started : io.submit(() -> {
            dev.write(s.deviceOffset(), buf);
            return null;
        }), buf);
    }

    /** One segment, copied out where the read ends (before the request sees it done). */
    private CompletableFuture<Void> readOne(ReadSeg s) {
        ByteBuffer buf = readBuffer(s);
        CompletableFuture<Void> started = start(() -> dev.readAsync(s.deviceOffset(), buf));
        return releasing(started != null ? started.thenRun(() -> copyOut(buf, s)) : io.submit(() -> {
            dev.read(s.deviceOffset(), buf);
            copyOut(buf, s);
            return null;
        }), buf);
    }

    private ByteBuffer readBuffer(ReadSeg s) {
        ByteBuffer buf = buffers.acquire(s.length());
        buf.position(0).limit(s.length());
        return buf;
    }

    private static void copyOut(ByteBuffer buf, ReadSeg s) {
        buf.get(s.skip(), s.dst(), s.dstOffset(), s.copyLength());
    }

    /** Done when every part is; failed with the first failure's own cause. */
    private static CompletableFuture<Void> all(List<CompletableFuture<Void>> parts) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new)).whenComplete((v, e) -> complete(done, e));
        return done;
    }

    private static void complete(CompletableFuture<Void> done, Throwable e) {
        if (e == null) {
            done.complete(null);
        } else {
            done.completeExceptionally(e instanceof CompletionException c && c.getCause() != null ? c.getCause() : e);
        }
    }

    /** A transfer that cannot start asynchronously now is null; one that fails to start is a failed future. */
    @FunctionalInterface
    private interface AsyncStart {
        CompletableFuture<Void> start() throws IOException;
    }

    /**
     * Starts a kernel AIO transfer from the calling thread (the inode actor's: io_submit with
     * RWF_NOWAIT never blocks it); null if the device cannot start it now, a failed future if it
     * refused it (a range past the device end).
     */
    private static CompletableFuture<Void> start(AsyncStart transfer) {
        try {
            return transfer.start();
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /** {@code transfer}, with {@code buf} back in the pool before anyone learns the transfer ended. */
    private CompletableFuture<Void> releasing(CompletableFuture<Void> transfer, ByteBuffer buf) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        transfer.whenComplete((v, e) -> {
            buffers.release(buf);
            complete(done, e);
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
