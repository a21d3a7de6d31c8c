package dionode.protocol.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.protocol.FileId;
import dionode.protocol.message.Reply;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link NodeClient#corked}: the frames of a burst are held until it returns and then all sent;
 * a call that would wait for a slot or a reply sends what is held first, so a burst never waits
 * on itself.
 */
class NodeClientCorkTest {
    private static final FileId F = new FileId(3, 1);

    @Test
    void aBurstReachesTheNodeOnlyWhenItEndsAndThenWhole() throws Exception {
        try (FakeNode node = new FakeNode(); NodeClient client = node.connect(ClientOptions.defaults())) {
            List<CompletionStage<Long>> calls = client.corked(() -> {
                List<CompletionStage<Long>> sent = new ArrayList<>();
                for (int i = 0; i < 16; i++) {
                    sent.add(client.write(F, i * 4096L, new byte[512], 0));
                }
                sleep(200);
                assertEquals(0, node.receivedWaiting(), "nothing of the burst left before it ended");
                return sent;
            });
            for (int i = 0; i < 16; i++) {
                FakeNode.Received r = node.take();
                node.reply(r.id(), new Reply.Written(512));
            }
            for (CompletionStage<Long> call : calls) {
                assertEquals(512L, call.toCompletableFuture().get(5, TimeUnit.SECONDS));
            }
            assertEquals(0, node.receivedWaiting(), "exactly the burst arrived");
        }
    }

    @Test
    @Timeout(20) // the failure this guards against is a burst waiting forever for slots its own held frames would free
    void aBurstLargerThanTheSlotsSendsWhatItHoldsInsteadOfWaitingOnItself() throws Exception {
        try (FakeNode node = new FakeNode(FakeNode::written);
                NodeClient client = node.connect(ClientOptions.defaults().withMaxInFlight(4))) {
            List<CompletableFuture<Long>> calls = client.corked(() -> {
                List<CompletableFuture<Long>> sent = new ArrayList<>();
                for (int i = 0; i < 40; i++) {
                    sent.add(client.write(F, i * 4096L, new byte[100], 0).toCompletableFuture());
                }
                long viaSync = client.sync(() -> client.write(F, 1 << 20, new byte[7], 0));
                assertEquals((1 << 20) + 7L, viaSync, "a sync call inside a burst is answered");
                return sent;
            });
            for (int i = 0; i < calls.size(); i++) {
                assertEquals(i * 4096L + 100, calls.get(i).get(5, TimeUnit.SECONDS));
            }
            assertEquals(0, client.inFlight());
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
