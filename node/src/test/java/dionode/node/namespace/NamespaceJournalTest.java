package dionode.node.namespace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.inode.Caller;
import dionode.node.crash.Fixture;
import dionode.node.device.BlockDevice;
import dionode.node.fs.Volume;
import dionode.node.fs.VolumeLoader;
import dionode.node.journal.CommitHold;
import dionode.node.journal.Handle;
import dionode.node.journal.JournalOptions;
import dionode.protocol.Errno;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The namespace when the journal is full and will not take another wake-up: it answers the
 * create and keeps serving. Before, {@code onSpace}'s refusal escaped the actor, which stopped:
 * that create and every later namespace request went unanswered.
 */
@Timeout(60)
class NamespaceJournalTest {
    private static final int MAX_TXN_BLOCKS = 8;

    private final CommitHold hold = new CommitHold();
    private ActorTestKit kit;
    private Path device;
    private BlockDevice dev;
    private Volume volume;

    @BeforeEach
    void mount() throws Exception {
        device = Fixture.formattedDevice("namespace-journal", 16 * Fixture.MIB);
        dev = BlockDevice.open(device, Fixture.JNA, 0);
        JournalOptions options = JournalOptions.defaults().withMaxTxnBlocks(MAX_TXN_BLOCKS).withMaxSpaceWaiters(1).withHook(hold);
        volume = VolumeLoader.mount(dev, options, Clock.systemUTC(), false);
        kit = ActorTestKit.create();
    }

    @AfterEach
    void unmount() throws Exception {
        hold.release();
        if (kit != null) {
            kit.shutdownTestKit();
        }
        if (volume != null) {
            volume.close();
        }
        if (dev != null) {
            dev.close();
        }
        Fixture.deleteQuietly(device);
    }

    @Test
    void aCreateTheJournalCannotWakeIsAnsweredAndTheNamespaceKeepsServing() throws Exception {
        ActorRef<NamespaceActor.Command> namespace = kit.spawn(NamespaceActor.create(volume, (ino, command) -> { },
                LockPolicy.ZEROING_AWARE));
        assertTrue(ask(namespace, new Request.Create("before", null, 0644, true)) instanceof Reply.InodeInfo);

        // hold the journal thread inside a commit, then fill the running transaction
        hold.arm();
        long data = volume.layout().dataStart();
        write(data, 1);
        volume.journal().commit();
        assertTrue(hold.awaitHeld());
        write(data + 1, MAX_TXN_BLOCKS);
        // and take the only wake-up the journal gives
        volume.journal().onSpace(() -> { });

        Reply refused = ask(namespace, new Request.Create("during", null, 0644, true));
        assertTrue(refused instanceof Reply.Error, "answered: " + refused);
        assertEquals(Errno.EROFS, ((Reply.Error) refused).errno(), refused.toString());
        Reply lookup = ask(namespace, new Request.Lookup("before"));
        assertTrue(lookup instanceof Reply.InodeInfo, "the namespace still serves: " + lookup);
    }

    /** Logs {@code count} data-area blocks from {@code first} in one handle. */
    private void write(long first, int count) {
        try (Handle handle = volume.journal().tryStart(count)) {
            for (int i = 0; i < count; i++) {
                handle.getWriteAccess(first + i, new byte[4096], (home, image) -> { });
            }
        }
    }

    private static Reply ask(ActorRef<NamespaceActor.Command> namespace, Request.NamespaceRequest request) {
        CompletableFuture<Reply> reply = new CompletableFuture<>();
        namespace.tell(new NamespaceActor.Op(request, Caller.ANONYMOUS, reply));
        return reply.orTimeout(10, TimeUnit.SECONDS).join();
    }
}
