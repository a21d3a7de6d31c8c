package dionode.node.inode;

import dionode.node.device.DaxMapping;
import dionode.node.device.IoExecutor;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * A DAX file's data path (dax_iomap_rw): copies into and out of the device's shared mapping
 * instead of block I/O, no page cache of the node's and no bounce buffer. A write is its copies
 * followed by a flush of each range it touched (dax_flush), so it is durable when its future
 * completes. Reads of at most {@link #INLINE_BYTES} are copied on the calling thread (a memcpy,
 * like a cache-line load from pmem); larger reads and every write, whose flush waits for the
 * media, run on the I/O executor, and their futures complete there. Thread-safe.
 */
public final class DaxDataPath implements DataPath {
    /** Reads up to this size are copied on the caller's thread: "a few KiB", one block. */
    static final int INLINE_BYTES = 4096;

    private final DaxMapping mapping;
    private final IoExecutor io;

    public DaxDataPath(DaxMapping mapping, IoExecutor io) {
        this.mapping = mapping;
        this.io = io;
    }

    /** Each segment: its zeros, its bytes, then the flush of its range. */
    @Override
    public CompletableFuture<Void> write(List<WriteSeg> segs) {
        return io.submit(() -> {
            for (WriteSeg s : segs) {
                long at = s.deviceOffset();
                if (s.bufferOffset() > 0) {
                    mapping.zero(at, s.bufferOffset());
                }
                mapping.write(at + s.bufferOffset(), s.src(), s.srcOffset(), s.copyLength());
                int tail = s.bufferOffset() + s.copyLength();
                if (tail < s.length()) {
                    mapping.zero(at + tail, s.length() - tail);
                }
                mapping.flush(at, s.length());
            }
            return null;
        });
    }

    @Override
    public CompletableFuture<Void> read(List<ReadSeg> segs) {
        long bytes = 0;
        for (ReadSeg s : segs) {
            bytes += s.copyLength();
        }
        if (bytes > INLINE_BYTES) {
            return io.submit(() -> {
                copyOut(segs);
                return null;
            });
        }
        try {
            copyOut(segs);
            return CompletableFuture.completedFuture(null);
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    private void copyOut(List<ReadSeg> segs) throws IOException {
        for (ReadSeg s : segs) {
            mapping.read(s.deviceOffset() + s.skip(), s.dst(), s.dstOffset(), s.copyLength());
        }
    }
}
