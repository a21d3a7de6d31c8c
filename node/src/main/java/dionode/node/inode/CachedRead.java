package dionode.node.inode;

import static dionode.node.inode.InodeState.B;

import dionode.node.cache.FilePages;
import dionode.node.trace.Stage;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Buffered reads (filemap_read): pages in the cache are copied out, the others read from the
 * device whole and cached clean on the way (holes and unwritten blocks as zeros, nothing past
 * i_size); no {@code i_rwsem}, as ext4_file_read_iter takes none for buffered reads. The device
 * reads count as direct I/O in flight, so a truncate drains them, and a page invalidated while
 * its read was out is not cached. Confined to its inode actor.
 */
final class CachedRead {

    private CachedRead() {
    }

    static void start(InodeState state, CompletableFuture<Reply> reply, long offset, int length) {
        new CachedReadOp(state, reply, offset, length).granted();
    }

    private static final class CachedReadOp extends InodeOp {
        private final long offset;
        private final int length;

        CachedReadOp(InodeState state, CompletableFuture<Reply> reply, long offset, int length) {
            super(state, reply);
            this.offset = offset;
            this.length = length;
        }

        @Override
        void granted() {
            int count = (int) Math.max(0, Math.min(length, inode().size - offset));
            byte[] dst = new byte[count];
            FilePages pages = state.pages();
            long now = state.volume.nowNanos();
            List<Long> misses = new ArrayList<>();
            long end = offset + count;
            for (long p = offset / B; p * B < end; p++) {
                long from = Math.max(offset, p * B);
                int len = (int) (Math.min(end, (p + 1) * B) - from);
                if (!pages.read(p, (int) (from - p * B), dst, (int) (from - offset), len, now)) {
                    misses.add(p);
                }
            }
            state.counters.inc(NodeCounters.READS);
            state.counters.add(NodeCounters.BYTES_READ, count);
            if (misses.isEmpty()) {
                succeed(new Reply.Data(dst));
                return;
            }
            byte[][] images = new byte[misses.size()][];
            List<DataPath.ReadSeg> segs = lookup(() -> {
                List<DataPath.ReadSeg> all = new ArrayList<>();
                for (int i = 0; i < images.length; i++) {
                    images[i] = new byte[B];
                    all.addAll(IoPlan.read(inode()::map, misses.get(i) * B, images[i], B, B, state.sectorSize));
                }
                return all;
            }, false, this::granted);
            if (segs == null) {
                return;
            }
            long ticket = pages.fillTicket();
            Runnable fill = () -> {
                FilePages cached = state.pages();
                long size = inode().size;
                for (int i = 0; i < images.length; i++) {
                    long p = misses.get(i);
                    if (p * B + B > size) {
                        Arrays.fill(images[i], (int) Math.max(0, Math.min(B, size - p * B)), B, (byte) 0);
                    }
                    long from = Math.max(offset, p * B);
                    int len = (int) (Math.min(end, (p + 1) * B) - from);
                    // a write may have cached the page meanwhile: its bytes are the newer
                    if (!cached.read(p, (int) (from - p * B), dst, (int) (from - offset), len, state.volume.nowNanos())) {
                        System.arraycopy(images[i], (int) (from - p * B), dst, (int) (from - offset), len);
                        cached.fill(p, images[i], ticket);
                    }
                }
                succeed(new Reply.Data(dst));
            };
            if (segs.isEmpty()) {
                fill.run();
                return;
            }
            await(state.dio.begin(() -> state.data.read(segs)), Stage.DEVICE, () -> {
                state.dio.end();
                if (inode() == null) {
                    fail(new Reply.Error(Errno.ENOENT, "inode " + state.ino + " was unlinked while this read waited"));
                    return;
                }
                fill.run();
            }, thrown -> {
                state.dio.end();
                fail(thrown);
            });
        }
    }
}
