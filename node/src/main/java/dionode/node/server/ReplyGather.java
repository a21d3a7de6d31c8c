package dionode.node.server;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.Arrays;

/**
 * The replies one connection's socket stage has taken and not yet written: those of one run of
 * its stream on the event loop leave in one gathering write when that run returns, instead of a
 * system call (and, over loopback, the peer's whole receive path) each. Bounded: the stage asks for more only
 * while fewer than {@link #GATHER_BYTES} bytes and {@link #MAX_REPLIES} replies wait and nothing
 * is stuck behind a full socket, so what waits is at most those bounds plus the one reply already
 * asked for; which is all the connection holds beyond what its allowance counts, as Pekko's TCP
 * stage holds its 16 KiB write buffer.
 *
 * <p>Not thread-safe: confined to its stage.
 */
final class ReplyGather {
    static final int GATHER_BYTES = 16 << 10;
    static final int MAX_REPLIES = 64;

    /** Where each system call is told: the replies it finished sending (0 for a part of one). */
    interface Writes {
        void wrote(int replies);
    }

    private final Writes writes;

    /** Replies in order, {@code [first, first + count)}; one slot over the bound for the reply asked for before it was reached. */
    private final ByteBuffer[] replies = new ByteBuffer[MAX_REPLIES + 1];
    private int first;
    private int count;
    private long bytes;

    ReplyGather(Writes writes) {
        this.writes = writes;
    }

    boolean isEmpty() {
        return count == 0;
    }

    /** Whether the stage may ask for another reply before writing these. */
    boolean hasRoom() {
        return count < MAX_REPLIES && bytes < GATHER_BYTES;
    }

    void add(ByteBuffer reply) {
        if (first + count == replies.length) {
            System.arraycopy(replies, first, replies, 0, count);
            Arrays.fill(replies, count, replies.length, null);
            first = 0;
        }
        replies[first + count++] = reply;
        bytes += reply.remaining();
    }

    /**
     * Writes what the socket takes, in one gathering write while it takes everything offered.
     *
     * @return true when everything left; false when the socket took less, and what it did not
     *     take stays, in order
     */
    boolean writeTo(GatheringByteChannel channel) throws IOException {
        while (count > 0) {
            long n = channel.write(replies, first, count);
            bytes -= n;
            int sent = 0;
            while (count > 0 && !replies[first].hasRemaining()) {
                replies[first++] = null;
                count--;
                sent++;
            }
            writes.wrote(sent);
            if (count > 0 && n == 0) {
                return false;
            }
        }
        first = 0;
        return true;
    }
}
