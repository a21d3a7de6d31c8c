package dionode.loadgen.soak;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Full device, in cycles (issue 10 item 10): fallocate a file ({@code soak-prealloc-K}), fill the
 * rest of the device with {@code soak-filler-K} until ENOSPC (1 MiB writes, then 64 KiB, then
 * 4 KiB), then scattered aligned and unaligned writes into the fallocated range, which must all
 * succeed, and read it all back; hold the device full for a while (everyone else meets ENOSPC),
 * then free it (unlink the filler and the previous cycle's file) and let the others run before
 * the next cycle. The last full device stays to the end of the traffic, so that its filler's and
 * fallocated file's every acknowledged byte is read back after the restart. Confined to its thread ({@link VerifiedIo} judges the answers).
 */
final class FullDevice implements Activity {
    private static final int[] CHUNKS = {1 << 20, 64 << 10, 4 << 10};
    private static final int DEPTH = 4;
    private static final long HOLD_FULL_MILLIS = 3_000;
    private static final long FREE_MILLIS = 8_000;
    /** Time left below which a full device is kept to the end rather than freed for one more cycle. */
    private static final double LAST_CYCLE_SECONDS = 25;

    private final long preallocBytes;

    FullDevice(long preallocBytes) {
        this.preallocBytes = preallocBytes;
    }

    @Override
    public String name() {
        return "full-device";
    }

    @Override
    public void run(SoakContext ctx) throws Exception {
        SplittableRandom rnd = ctx.random(name());
        Deque<String> kept = new ArrayDeque<>();
        try (NodeClient c = ctx.connect()) {
            for (int cycle = 1; ctx.running() && c.isOpen(); cycle++) {
                String prealloc = "soak-prealloc-" + cycle;
                FileId pf = ctx.create(c, prealloc);
                kept.add(prealloc);
                Answer<Void> fa = Answer.await(c.fallocate(pf, 0, preallocBytes, false), ctx.replyTimeout());
                ctx.tally().request("full.fallocate", fa);
                if (!fa.ok()) {
                    if (!fa.is(Errno.ENOSPC)) {
                        ctx.fail("fallocate " + preallocBytes + " bytes of " + prealloc + ": " + fa);
                    }
                    ctx.models().put(prealloc, new FileModel(prealloc, ctx.nextKey(), pf, preallocBytes, 0, 0));
                    ctx.pause(FREE_MILLIS); // the others hold the space: try again later
                    continue;
                }
                FileModel pm = new FileModel(prealloc, ctx.nextKey(), pf, preallocBytes, preallocBytes, preallocBytes);
                ctx.models().put(prealloc, pm);
                String filler = "soak-filler-" + cycle;
                FileModel fm = new FileModel(filler, ctx.nextKey(), ctx.create(c, filler), ctx.deviceBytes(), 0, 0);
                ctx.models().put(filler, fm);
                VerifiedIo fio = new VerifiedIo(ctx, c, fm, "full.filler", DEPTH);
                if (!fill(ctx, fio)) {
                    break;
                }
                ctx.tally().event("enospc_cycles");
                scatter(ctx, rnd, new VerifiedIo(ctx, c, pm, "full.prealloc", DEPTH), fio);
                if (!ctx.pause(HOLD_FULL_MILLIS) || ctx.secondsLeft() < LAST_CYCLE_SECONDS) {
                    ctx.awaitEnd(); // the last full device stays to the end, to be read back after the restart
                    break;
                }
                unlink(ctx, c, filler);
                while (kept.size() > 1) {
                    unlink(ctx, c, kept.poll());
                }
                ctx.pause(FREE_MILLIS);
            }
        }
    }

    /** Appends chunks, each size until the device answers ENOSPC; false when the traffic ended first. */
    private boolean fill(SoakContext ctx, VerifiedIo io) throws InterruptedException {
        long pos = 0;
        for (int chunk : CHUNKS) {
            AtomicBoolean enospc = new AtomicBoolean();
            for (long n = 0; !enospc.get() && n <= ctx.deviceBytes() / chunk + DEPTH; n++, pos += chunk) {
                if (!ctx.running() || io.stuck()) {
                    io.drain();
                    return false;
                }
                io.write(pos, chunk, IoFlags.ASYNC).thenAccept(a -> enospc.compareAndSet(false, a.is(Errno.ENOSPC)));
            }
            io.drain();
            if (!enospc.get()) {
                ctx.fail("wrote " + pos + " bytes into " + io.model().name() + " without ENOSPC on a " + ctx.deviceBytes()
                        + "-byte device");
                return ctx.running();
            }
            long size = io.model().size();
            pos = size < 0 ? pos : (size + chunk - 1) / chunk * chunk; // on from the last acknowledged chunk
        }
        ctx.tally().events("filler_bytes", Math.max(0, io.model().size()));
        return true;
    }

    /**
     * Scattered writes into the fallocated file on the full device (every one must succeed), all of
     * it read back, and whether the device is still full (the others may have freed space meanwhile:
     * only counted).
     */
    private void scatter(SoakContext ctx, SplittableRandom rnd, VerifiedIo io, VerifiedIo filler) throws InterruptedException {
        int writes = 64 + rnd.nextInt(192);
        for (int i = 0; i < writes && !io.stuck(); i++) {
            int flags = new int[] {0, IoFlags.ASYNC, IoFlags.DURABLE}[rnd.nextInt(3)];
            boolean aligned = rnd.nextBoolean();
            int unit = aligned ? FileModel.BLOCK : FileModel.SECTOR;
            int len = unit * (1 + rnd.nextInt(aligned ? 16 : 40));
            io.write(unit * rnd.nextLong((preallocBytes - len) / unit + 1), len, flags);
        }
        io.drain();
        ctx.tally().events("prealloc_writes_on_full_device", writes);
        for (long off = 0; off < preallocBytes && !io.stuck(); off += 1 << 20) {
            io.read(off, (int) Math.min(1 << 20, preallocBytes - off), 0);
        }
        io.drain();
        long end = Math.max(0, filler.model().size());
        Answer<Long> probe = filler.write((end + FileModel.BLOCK - 1) / FileModel.BLOCK * FileModel.BLOCK, FileModel.BLOCK, 0).join();
        ctx.tally().event(probe.is(Errno.ENOSPC) ? "full_after_prealloc_writes" : "space_freed_during_prealloc_writes");
    }

    private static void unlink(SoakContext ctx, NodeClient c, String name) {
        Answer<Void> a = Answer.await(c.unlink(name), ctx.replyTimeout());
        ctx.tally().request("full.unlink", a);
        if (a.ok()) {
            FileModel gone = ctx.models().remove(name);
            if (gone != null) {
                ctx.unlinked(gone.handle());
            }
        } else {
            ctx.fail("unlink " + name + ": " + a);
        }
    }
}
