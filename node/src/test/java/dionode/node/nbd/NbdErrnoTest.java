package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.server.Binding;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Node errors as NBD error values, and which node requests each command becomes, through a real
 * connection to an NBD server whose "node" is a function answering what the test says.
 */
class NbdErrnoTest {
    static final FileId INO = new FileId(7, 2);
    static final long SIZE = 64L << 20;
    static ActorSystem<Void> system;
    static Binding binding;
    static int port;
    /** Node errno to answer for a request at offset {@code k * 4096}. */
    static final Map<Long, Errno> failAt = new ConcurrentHashMap<>();
    /** EAGAINs still to answer at an offset before it succeeds. */
    static final Map<Long, AtomicInteger> eagainsAt = new ConcurrentHashMap<>();
    static final List<Request> seen = new CopyOnWriteArrayList<>();

    static CompletionStage<Reply> fakeNode(Request r) {
        seen.add(r);
        Reply rep;
        if (r instanceof Request.Lookup l) {
            rep = l.name().equals("f") ? new Reply.InodeInfo(INO, "f", false) : new Reply.Error(Errno.ENOENT, "no");
        } else if (r instanceof Request.Stat) {
            rep = new Reply.FileStat(INO, "f", SIZE, SIZE, 0, 4096, 0644, LockPolicy.ZEROING_AWARE, 0, 0,
                    new Reply.Layout(0, 0, 0));
        } else {
            long off = r instanceof Request.Write w ? w.offset() : r instanceof Request.Read rd ? rd.offset()
                    : r instanceof Request.PunchHole p ? p.offset() : r instanceof Request.ZeroRange z ? z.offset() : -1;
            AtomicInteger again = eagainsAt.get(off);
            if (again != null && again.getAndDecrement() > 0) {
                rep = new Reply.Error(Errno.EAGAIN, "device queue full");
            } else if (failAt.containsKey(off)) {
                rep = new Reply.Error(failAt.get(off), "injected");
            } else if (r instanceof Request.Read rd) {
                rep = new Reply.Data(new byte[rd.length()]);
            } else if (r instanceof Request.Write w) {
                rep = new Reply.Written(w.data().length);
            } else {
                rep = new Reply.Done();
            }
        }
        return CompletableFuture.completedFuture(rep);
    }

    @BeforeAll
    static void start() throws Exception {
        system = ActorSystem.create(Behaviors.empty(), "nbd-errno");
        binding = new NbdServer(NbdErrnoTest::fakeNode, 512, 16, NbdServer.DEFAULT_BUDGET_BYTES)
                .bind(system, "127.0.0.1", 0).toCompletableFuture().get(30, TimeUnit.SECONDS);
        port = binding.localAddress().getPort();
    }

    @AfterAll
    static void stop() throws Exception {
        binding.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        system.terminate();
        system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void everyNodeErrnoMapsToAnNbdErrorValue() throws Exception {
        Map<Errno, Integer> expected = Map.ofEntries(Map.entry(Errno.EPERM, Nbd.EPERM), Map.entry(Errno.EACCES, Nbd.EPERM), Map.entry(Errno.EROFS, Nbd.EPERM),
                Map.entry(Errno.EIO, Nbd.EIO), Map.entry(Errno.ENOMEM, Nbd.ENOMEM), Map.entry(Errno.EINVAL, Nbd.EINVAL),
                Map.entry(Errno.ENAMETOOLONG, Nbd.EINVAL), Map.entry(Errno.ENOSPC, Nbd.ENOSPC),
                Map.entry(Errno.EFBIG, Nbd.ENOSPC), Map.entry(Errno.EOPNOTSUPP, Nbd.ENOTSUP),
                Map.entry(Errno.ENOENT, Nbd.EIO), Map.entry(Errno.EBADF, Nbd.EIO), Map.entry(Errno.EBUSY, Nbd.EIO),
                Map.entry(Errno.EEXIST, Nbd.EIO), Map.entry(Errno.EBADMSG, Nbd.EIO),
                Map.entry(Errno.EFSCORRUPTED, Nbd.EIO), Map.entry(Errno.EAGAIN, Nbd.EIO), Map.entry(Errno.ESTALE, Nbd.EIO),
                Map.entry(Errno.EHOSTDOWN, Nbd.EIO));
        assertEquals(Errno.values().length, expected.size(), "every errno has an expectation");
        try (TestNbdClient c = TestNbdClient.transmission(port, "f")) {
            Errno[] all = Errno.values();
            for (int k = 0; k < all.length; k++) {
                if (all[k] != Errno.EAGAIN) {
                    failAt.put(4096L * (k + 1), all[k]);
                }
            }
            for (int k = 0; k < all.length; k++) {
                if (all[k] == Errno.EAGAIN) {
                    continue;
                }
                long off = 4096L * (k + 1);
                int want = expected.get(all[k]);
                assertEquals(want, c.call(0, Nbd.CMD_WRITE, off, 4096, new byte[4096]).error(), "write " + all[k]);
                assertEquals(want, c.call(0, Nbd.CMD_READ, off, 4096, null).error(), "read " + all[k]);
                assertEquals(want, c.call(0, Nbd.CMD_TRIM, off, 4096, null).error(), "trim " + all[k]);
                assertEquals(want, c.call(0, Nbd.CMD_WRITE_ZEROES, off, 4096, null).error(), "zeroes " + all[k]);
            }
        } finally {
            failAt.clear();
        }
        for (Errno e : Errno.values()) {
            assertEquals((int) expected.get(e), Nbd.error(e), e.name());
        }
    }

    @Test
    void eagainIsRetriedAndOnlyAPersistingOneFails() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "f")) {
            eagainsAt.put(512L * 1024, new AtomicInteger(3));
            assertEquals(0, c.call(0, Nbd.CMD_WRITE, 512L * 1024, 4096, new byte[4096]).error());
            eagainsAt.put(516L * 1024, new AtomicInteger(Integer.MAX_VALUE));
            long t0 = System.nanoTime();
            assertEquals(Nbd.EIO, c.call(0, Nbd.CMD_READ, 516L * 1024, 4096, null).error());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(20));
        } finally {
            eagainsAt.clear();
        }
    }

    @Test
    void commandsBecomeTheNativeRequests() throws Exception {
        try (TestNbdClient c = TestNbdClient.transmission(port, "f")) {
            seen.clear();
            long base = 600 << 10;
            assertEquals(0, c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_WRITE, base, 1024, new byte[1024]).error());
            assertEquals(0, c.call(0, Nbd.CMD_WRITE, base, 512, new byte[512]).error());
            assertEquals(0, c.call(0, Nbd.CMD_READ, base, 1024, null).error());
            assertEquals(0, c.call(0, Nbd.CMD_FLUSH, 0, 0, null).error());
            assertEquals(0, c.call(Nbd.CMD_FLAG_FUA, Nbd.CMD_TRIM, base, 4096, null).error());
            assertEquals(0, c.call(0, Nbd.CMD_WRITE_ZEROES, base, 4096, null).error());
            assertEquals(0, c.call(Nbd.CMD_FLAG_NO_HOLE, Nbd.CMD_WRITE_ZEROES, base, 4096, null).error());
            List<Request> got = List.copyOf(seen);
            assertEquals(8, got.size(), got.toString());
            assertEquals(IoFlags.DURABLE, ((Request.Write) got.get(0)).flags(), "FUA write is durable");
            assertEquals(0, ((Request.Write) got.get(1)).flags(), "direct and sync");
            assertEquals(new Request.Read(INO, base, 1024, 0), got.get(2));
            assertEquals(new Request.Fsync(INO), got.get(3));
            assertEquals(new Request.PunchHole(INO, base, 4096), got.get(4));
            assertEquals(new Request.Fsync(INO), got.get(5), "FUA trim is followed by an fsync");
            assertEquals(new Request.ZeroRange(INO, base, 4096, true), got.get(6), "may leave unwritten extents");
            assertEquals(new Request.ZeroRange(INO, base, 4096, false), got.get(7), "NO_HOLE");

            seen.clear();
            long m = 1 << 20;
            assertEquals(0, c.call(0, Nbd.CMD_TRIM, 4096, 40 * m, null).error());
            assertEquals(List.of(new Request.PunchHole(INO, 4096, 16 * m - 4096), new Request.PunchHole(INO, 16 * m, 16 * m),
                    new Request.PunchHole(INO, 32 * m, 8 * m + 4096)), List.copyOf(seen), "pieces cut at 16 MiB multiples");
            seen.clear();
            failAt.put(16 * m, Errno.EIO);
            assertEquals(Nbd.EIO, c.call(0, Nbd.CMD_WRITE_ZEROES, 0, 48 * m, null).error());
            assertEquals(2, seen.size(), "no piece after a failed one: " + seen);
            failAt.clear();
        }
    }
}
