package dionode.node.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gathered replies of a connection against a socket that takes a few bytes a call, as a full one does. */
class ReplyGatherTest {

    /** A socket twin: takes at most {@code room} bytes a call (0 when full), keeps them in order. */
    private static final class Socket implements GatheringByteChannel {
        final ByteArrayOutputStream taken = new ByteArrayOutputStream();
        int room;
        int calls;

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            calls++;
            long n = 0;
            for (int i = offset; i < offset + length && room > 0; i++) {
                while (srcs[i].hasRemaining() && room > 0) {
                    taken.write(srcs[i].get());
                    room--;
                    n++;
                }
            }
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs) {
            return write(srcs, 0, srcs.length);
        }

        @Override
        public int write(ByteBuffer src) {
            return (int) write(new ByteBuffer[] {src});
        }

        @Override
        public boolean isOpen() {
            return true;
        }

        @Override
        public void close() {
        }
    }

    private static ByteBuffer reply(int tag, int bytes) {
        byte[] b = new byte[bytes];
        java.util.Arrays.fill(b, (byte) tag);
        return ByteBuffer.wrap(b);
    }

    @Test
    void repliesLeaveInOneCallWhenTheSocketTakesThemAll() throws Exception {
        List<Integer> sent = new ArrayList<>();
        ReplyGather gather = new ReplyGather(sent::add);
        Socket socket = new Socket();
        socket.room = 1 << 20;
        for (int i = 0; i < 10; i++) {
            gather.add(reply(i, 16));
        }
        assertTrue(gather.writeTo(socket));
        assertEquals(1, socket.calls);
        assertEquals(List.of(10), sent);
        assertTrue(gather.isEmpty());
    }

    @Test
    void whatAFullSocketDidNotTakeStaysInOrderUntilItIsWritable() throws Exception {
        List<Integer> sent = new ArrayList<>();
        ReplyGather gather = new ReplyGather(sent::add);
        Socket socket = new Socket();
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (int i = 0; i < 5; i++) {
            ByteBuffer r = reply(i, 100);
            expected.write(r.array(), 0, 100);
            gather.add(r);
        }
        socket.room = 250; // two and a half replies, then full
        assertFalse(gather.writeTo(socket));
        assertEquals(List.of(2, 0), sent, "the call that took 250 bytes finished two replies; the next found the socket full");
        assertFalse(gather.isEmpty());
        ByteBuffer later = reply(9, 30); // asked for before the socket filled: it goes after the rest
        expected.write(later.array(), 0, 30);
        gather.add(later);
        socket.room = 1 << 20;
        assertTrue(gather.writeTo(socket));
        assertEquals(List.of(2, 0, 4), sent);
        assertArrayEquals(expected.toByteArray(), socket.taken.toByteArray());
    }

    @Test
    void roomEndsAtTheByteOrTheReplyBound() throws Exception {
        ReplyGather bytes = new ReplyGather(n -> { });
        bytes.add(reply(1, ReplyGather.GATHER_BYTES - 1));
        assertTrue(bytes.hasRoom());
        bytes.add(reply(2, 1));
        assertFalse(bytes.hasRoom(), "16 KiB gathered");
        ReplyGather replies = new ReplyGather(n -> { });
        for (int i = 0; i < ReplyGather.MAX_REPLIES; i++) {
            assertTrue(replies.hasRoom());
            replies.add(reply(i, 1));
        }
        assertFalse(replies.hasRoom(), ReplyGather.MAX_REPLIES + " replies gathered");
        replies.add(reply(99, 1)); // the one asked for before the bound was reached still fits
        Socket socket = new Socket();
        socket.room = 1 << 20;
        assertTrue(replies.writeTo(socket));
        assertEquals(ReplyGather.MAX_REPLIES + 1, socket.taken.size());
    }
}
