package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

class ConnectionRepliesTest {
    @Test
    void theLastElementWaitsUntilEarlierRepliesAreEmittedNotMerelyComplete() {
        ConnectionReplies<String> replies = new ConnectionReplies<>();
        CompletableFuture<String> stat = new CompletableFuture<>();
        CompletableFuture<ConnectionReplies.Tracked<String>> first = replies.track(stat).toCompletableFuture();
        stat.complete("reply 1");
        assertTrue(first.isDone());
        // the reply is complete but mapAsyncUnordered has not emitted it yet: the close must wait
        CompletableFuture<ConnectionReplies.Tracked<String>> close = replies.last("EBADMSG").toCompletableFuture();
        assertFalse(close.isDone());
        assertEquals("reply 1", replies.emitted(first.join()));
        assertTrue(close.isDone());
        assertEquals("EBADMSG", replies.emitted(close.join()));
    }

    @Test
    void repliesTrackedAfterTheLastDoNotHoldItAndFailedOnesDoNotBlockIt() {
        ConnectionReplies<String> replies = new ConnectionReplies<>();
        CompletableFuture<String> failing = new CompletableFuture<>();
        CompletionStage<ConnectionReplies.Tracked<String>> failed = replies.track(failing);
        CompletableFuture<ConnectionReplies.Tracked<String>> close = replies.last("bye").toCompletableFuture();
        replies.track(new CompletableFuture<>());
        assertFalse(close.isDone());
        failing.completeExceptionally(new IllegalStateException("node failed"));
        assertTrue(failed.toCompletableFuture().isCompletedExceptionally());
        assertTrue(close.isDone());
    }

    @Test
    void elementsAlreadyCompleteNeedNoBookkeeping() {
        ConnectionReplies<String> replies = new ConnectionReplies<>();
        assertEquals("handshake", replies.emitted(replies.now("handshake").toCompletableFuture().join()));
        assertTrue(replies.last("bye").toCompletableFuture().isDone());
    }
}
