package dionode.node.inode;

import static dionode.protocol.LockPolicy.ZEROING_AWARE;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dionode.node.fs.Inode;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.message.Reply;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Bad requests get a clear errno and change nothing. */
class BadInputTest extends EngineFixture {

    @Test
    void misalignedDirectIoIsEinval() {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWW", model);
        List<Reply.FiemapExtent> map = fiemap(ino);
        assertEquals(Errno.EINVAL, errno(client.write(ino, 100, new byte[512], 0)));
        assertEquals(Errno.EINVAL, errno(client.write(ino, 512, new byte[100], 0)));
        assertEquals(Errno.EINVAL, errno(client.read(ino, 3, 512, 0)));
        assertEquals(Errno.EINVAL, errno(client.read(ino, 0, 513, 0)));
        assertEquals(map, fiemap(ino));
        assertContent(ino, model, 4 * B);
    }

    @Test
    void bufferedIoTakesAnyOffsetAndLength() {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WU.W", model);
        byte[] data = new byte[5000];
        java.util.Arrays.fill(data, (byte) 0x77);
        assertEquals(5000, join(client.write(ino, 3, data, IoFlags.BUFFERED)));
        System.arraycopy(data, 0, model, 3, 5000);
        assertContent(ino, model, 4 * B);
        byte[] part = join(client.read(ino, 1, 7000, IoFlags.BUFFERED));
        assertEquals(java.util.Arrays.toString(java.util.Arrays.copyOfRange(model, 1, 7001)), java.util.Arrays.toString(part));
        // a buffered write past EOF sets the size to its exact end
        join(client.write(ino, 4 * B + 10, new byte[] {1, 2, 3}, IoFlags.BUFFERED));
        assertEquals(4 * B + 13, join(client.stat(ino)).size());
        assertEquals(Errno.EOPNOTSUPP, errno(client.write(ino, 0, data, IoFlags.BUFFERED | IoFlags.NOWAIT)));
    }

    @Test
    void pastTheMaximumFileSizeIsEfbig() {
        FileId ino = join(client.create("f", null, 0644, true)).file();
        assertEquals(Errno.EFBIG, errno(client.write(ino, Inode.MAX_BYTES, new byte[4096], 0)));
        assertEquals(Errno.EFBIG, errno(client.truncate(ino, Inode.MAX_BYTES + 4096)));
        assertEquals(0, join(client.stat(ino)).size());
    }

    @Test
    void unknownInodeIsEnoent() {
        assertEquals(Errno.ENOENT, errno(client.read(new FileId(999, 1), 0, 512, 0)));
        assertEquals(Errno.ENOENT, errno(client.stat(new FileId(1L << 40, 1))));
        assertEquals(Errno.ENOENT, errno(client.stat(new FileId(0, 0))));
        assertEquals(Errno.ENOENT, errno(client.lookup("missing")));
        assertEquals(Errno.ENOENT, errno(client.unlink("missing")));
    }

    @Test
    void zeroLengthWriteIsZeroBytesWithoutTheLock() throws Exception {
        byte[] model = new byte[4 * B];
        FileId ino = file("f", ZEROING_AWARE, "WWWW", model);
        gate.close();
        var held = client.write(ino, 4 * B, new byte[B], 0); // extending: exclusive until its I/O completes
        gate.awaitHeld(1);
        assertEquals(0L, join(client.write(ino, 0, new byte[0], 0)), "answered although the lock is held");
        gate.open();
        join(held);
    }

    @Test
    void namesAreChecked() {
        assertEquals(Errno.EINVAL, errno(client.create("a/b", null, 0644, true)));
        assertEquals(Errno.EINVAL, errno(client.create("", null, 0644, true)));
        assertEquals(Errno.ENAMETOOLONG, errno(client.create("x".repeat(200), null, 0644, true)));
        join(client.create("same", null, 0644, true));
        assertEquals(Errno.EEXIST, errno(client.create("same", null, 0644, true)));
        assertEquals(false, join(client.create("same", null, 0644, false)).created());
    }

    @Test
    void unlinkFreesBlocksAndTheName() {
        byte[] model = new byte[8 * B];
        FileId ino = file("gone", ZEROING_AWARE, "WWUUWW..", model);
        long free0 = stats().get("free_blocks");
        join(client.unlink("gone"));
        assertEquals(Errno.ENOENT, errno(client.lookup("gone")));
        assertEquals(Errno.ENOENT, errno(client.stat(ino)));
        join(client.fsync(join(client.create("other", null, 0644, true)).file()));
        assertEquals(free0 + 6, stats().get("free_blocks"), "six data blocks back in the allocator after the commit");
    }
}
