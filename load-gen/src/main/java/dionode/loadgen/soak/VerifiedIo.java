package dionode.loadgen.soak;

import dionode.protocol.Errno;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Reads and writes of one modelled file over one connection, up to {@code depth} in flight, never
 * two overlapping at once (so each acknowledged write and each read has one meaning in the
 * model). Judges every answer:
 * <ul>
 *   <li>an acknowledged write goes into the model; a read must match it byte for byte;
 *   <li>{@code EAGAIN} only for NOWAIT; {@code ENOSPC} only for a write that allocates (never into
 *       fallocated or already written blocks: issue 10's full-device writes);
 *   <li>anything else, no answer within the bound, or a lost connection is a failure, and the
 *       range becomes unknown to the model when the write may have happened.
 * </ul>
 * Thread-safe: the caller's thread sends, the client's reader thread judges the answers.
 */
final class VerifiedIo {
    private final SoakContext ctx;
    private final NodeClient client;
    private final FileModel model;
    private final String kind;
    private final int depth;
    private final Semaphore slots;
    private final List<Range> busy = new ArrayList<>();
    private volatile boolean stuck;

    /** {@code kind} names the requests in the tally ({@code kind.write}, {@code kind.read}, ...). */
    VerifiedIo(SoakContext ctx, NodeClient client, FileModel model, String kind, int depth) {
        this.ctx = ctx;
        this.client = client;
        this.model = model;
        this.kind = kind;
        this.depth = depth;
        this.slots = new Semaphore(depth);
    }

    FileModel model() {
        return model;
    }

    NodeClient client() {
        return client;
    }

    /** Whether requests went unanswered past the bound: sending more only waits again. */
    boolean stuck() {
        return stuck || !client.isOpen();
    }

    /** Writes the next sequence's bytes; waits for a slot and for overlapping requests first. */
    CompletableFuture<Answer<Long>> write(long offset, int length, int flags) throws InterruptedException {
        Range range = reserve(offset, length);
        if (range == null) {
            return CompletableFuture.completedFuture(Answer.of(null, new IllegalStateException("no slot")));
        }
        int s = model.nextSeq();
        boolean allocated = model.allocated(offset, length);
        String what = kind + " write of " + length + " bytes at " + offset + " (" + flagNames(flags) + ") to " + model.name();
        return Answer.bounded(client.write(model.handle(), offset, model.bytes(offset, length, s), flags), ctx.replyTimeout())
                .whenComplete((a, x) -> {
                    ctx.tally().request(kind + ".write", a);
                    if (a.ok()) {
                        model.acknowledged(offset, length, s);
                        if (a.value() != length) {
                            ctx.fail(what + " answered " + a.value() + " bytes written");
                        }
                    } else if (a.is(Errno.ENOSPC) && allocated) {
                        ctx.fail(what + ": ENOSPC although every block of the range is allocated (" + a.detail() + ")");
                    } else if (!a.is(Errno.ENOSPC) && !(a.is(Errno.EAGAIN) && IoFlags.has(flags, IoFlags.NOWAIT))) {
                        if (a.timedOut() || a.lost()) {
                            model.unknown(offset, length);
                        }
                        ctx.fail(what + ": " + a);
                    }
                    release(range);
                });
    }

    /** Reads and compares with the model; waits for a slot and for overlapping writes first. */
    CompletableFuture<Answer<byte[]>> read(long offset, int length, int flags) throws InterruptedException {
        Range range = reserve(offset, length);
        if (range == null) {
            return CompletableFuture.completedFuture(Answer.of(null, new IllegalStateException("no slot")));
        }
        long size = model.size();
        String what = kind + " read of " + length + " bytes at " + offset + " (" + flagNames(flags) + ") of " + model.name();
        return Answer.bounded(client.read(model.handle(), offset, length, flags), ctx.replyTimeout()).whenComplete((a, x) -> {
            ctx.tally().request(kind + ".read", a);
            if (a.ok()) {
                byte[] data = a.value();
                long want = size < 0 ? 0 : Math.max(0, Math.min(length, size - offset));
                if (data.length < want) {
                    ctx.fail(what + ": " + data.length + " bytes, the file has " + want + " there");
                }
                FileModel.Check c = model.compare(offset, Arrays.copyOf(data, Math.min(data.length, length) & ~(FileModel.SECTOR - 1)));
                ctx.tally().events("bytes_checked_during_traffic", c.compared());
                if (c.mismatch() != null) {
                    ctx.fail("read back wrong data: " + c.mismatch());
                }
            } else if (!(a.is(Errno.EAGAIN) && IoFlags.has(flags, IoFlags.NOWAIT))) {
                ctx.fail(what + ": " + a);
            }
            release(range);
        });
    }

    /** fsync: must succeed. */
    void fsync() {
        Answer<Void> a = Answer.await(client.fsync(model.handle()), ctx.replyTimeout());
        ctx.tally().request(kind + ".fsync", a);
        if (!a.ok()) {
            ctx.fail(kind + " fsync of " + model.name() + ": " + a);
        }
    }

    /** stat: must succeed and show the model's size. */
    void stat() {
        Answer<Reply.FileStat> a = Answer.await(client.stat(model.handle()), ctx.replyTimeout());
        ctx.tally().request(kind + ".stat", a);
        long size = model.size();
        if (!a.ok()) {
            ctx.fail(kind + " stat of " + model.name() + ": " + a);
        } else if (size >= 0 && a.value().size() != size) {
            ctx.fail(kind + " stat of " + model.name() + ": size " + a.value().size() + ", the model has " + size);
        }
    }

    /** Waits until nothing is in flight (at most the reply bound and a margin). */
    void drain() throws InterruptedException {
        if (slots.tryAcquire(depth, ctx.replyTimeout().toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
            slots.release(depth);
        } else {
            ctx.fail(kind + " on " + model.name() + ": requests still in flight " + ctx.replyTimeout().toSeconds() + " s after the last was sent");
        }
    }

    /** A byte range in flight; no two overlap. */
    private record Range(long start, long end) {
        boolean overlaps(Range o) {
            return start < o.end && o.start < end;
        }
    }

    private Range reserve(long offset, int length) throws InterruptedException {
        long limit = ctx.replyTimeout().toMillis() + 10_000;
        if (!slots.tryAcquire(limit, TimeUnit.MILLISECONDS)) {
            stuck = true;
            ctx.fail(kind + " on " + model.name() + ": no request of " + depth + " in flight answered within " + limit + " ms");
            return null;
        }
        Range range = new Range(offset, offset + length);
        long deadline = System.currentTimeMillis() + limit;
        synchronized (this) {
            while (overlaps(range)) {
                long left = deadline - System.currentTimeMillis();
                if (left <= 0) {
                    stuck = true;
                    slots.release();
                    ctx.fail(kind + " on " + model.name() + ": a request at " + offset + " stayed unanswered for " + limit + " ms");
                    return null;
                }
                wait(left);
            }
            busy.add(range);
        }
        return range;
    }

    private boolean overlaps(Range r) {
        return busy.stream().anyMatch(r::overlaps);
    }

    private void release(Range range) {
        synchronized (this) {
            busy.remove(range);
            notifyAll();
        }
        slots.release();
    }

    static String flagNames(int flags) {
        if (flags == 0) {
            return "sync";
        }
        List<String> n = new ArrayList<>();
        String[] names = {"NOWAIT", "ASYNC", "DURABLE", "BUFFERED"};
        for (int bit = 0; bit < names.length; bit++) {
            if ((flags & 1 << bit) != 0) {
                n.add(names[bit]);
            }
        }
        return String.join("|", n);
    }
}
