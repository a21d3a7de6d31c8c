package dionode.protocol.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link NodeClient#sync}: the waiting caller reads its own reply (so it is not woken by the
 * reader thread), every other reply still reaches its future, and the reader thread takes over
 * once no caller waits.
 */
class NodeClientSyncTest {
    private static final FileId F = new FileId(3, 1);

    @Test
    void theWaitingCallerReadsItsOwnReply() throws Exception {
        try (FakeNode node = new FakeNode(FakeNode::written); NodeClient client = node.connect(ClientOptions.defaults())) {
            for (int i = 0; i < 20; i++) {
                long offset = i * 4096L;
                Thread reader = client.sync(() -> client.write(F, offset, new byte[512], 0).thenApply(n -> {
                    assertEquals(offset + 512, n);
                    return Thread.currentThread();
                }));
                assertSame(Thread.currentThread(), reader, "the reply was read and completed on the caller's thread");
            }
            assertEquals(0, client.inFlight());
        }
    }

    @Test
    void replyCallbacksOfOtherCallsStillRunAndTheReaderThreadTakesOverAfterwards() throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults())) {
            CompletionStage<Long> async = client.write(F, 0, new byte[1], 0);
            FakeNode.Received first = node.take();
            AtomicReference<Long> mine = new AtomicReference<>();
            Thread caller = new Thread(() -> mine.set(client.sync(() -> client.write(F, 4096, new byte[2], 0))));
            caller.start();
            FakeNode.Received second = node.take();
            node.reply(first.id(), new Reply.Written(1)); // read by whoever reads: the other call's future completes
            assertEquals(1L, async.toCompletableFuture().get(5, TimeUnit.SECONDS));
            node.reply(second.id(), new Reply.Written(2));
            caller.join(5000);
            assertEquals(2L, mine.get());
            // nobody waits in sync now: a plain call's reply must still be read (by the reader thread)
            CompletionStage<Long> later = client.write(F, 8192, new byte[3], 0);
            node.reply(node.take().id(), new Reply.Written(3));
            assertEquals(3L, later.toCompletableFuture().get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void syncCallersAndAsyncCallsTogetherEachGetTheirOwnReply() throws Exception {
        try (FakeNode node = new FakeNode(FakeNode::written); NodeClient client = node.connect(ClientOptions.defaults())) {
            List<Thread> threads = new ArrayList<>();
            List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
            for (int t = 0; t < 4; t++) {
                int base = t;
                Thread thread = new Thread(() -> {
                    try {
                        for (int i = 0; i < 500; i++) {
                            long offset = (base * 1000L + i) * 8192;
                            if (i % 3 == 0) {
                                CompletableFuture<Long> f = client.write(F, offset, new byte[8], 0).toCompletableFuture();
                                assertEquals(offset + 8, f.get(5, TimeUnit.SECONDS));
                            } else {
                                assertEquals(offset + 8, client.sync(() -> client.write(F, offset, new byte[8], 0)));
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                });
                threads.add(thread);
                thread.start();
            }
            for (Thread thread : threads) {
                thread.join(30_000);
                assertTrue(!thread.isAlive(), "a caller hangs");
            }
            assertEquals(List.of(), failures);
            assertEquals(0, client.inFlight());
        }
    }

    @Test
    void aConnectionThatEndsFailsTheWaitingCaller() throws Exception {
        FakeNode node = new FakeNode();
        try (NodeClient client = node.connect(ClientOptions.defaults())) {
            Thread closer = new Thread(() -> {
                try {
                    node.take();
                    node.close();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            closer.start();
            CompletionException e = assertThrows(CompletionException.class, () -> client.sync(() -> client.write(F, 0, new byte[1], 0)));
            assertEquals(Errno.EIO, assertInstanceOf(NodeException.class, e.getCause()).errno());
            closer.join(5000);
        }
    }
}
