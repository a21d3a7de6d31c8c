package dionode.loadgen.soak;

import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeClient;
import java.util.SplittableRandom;

/**
 * Verified traffic: one writer over its own file ({@code soak-wN}: a hole of {@code fileBytes},
 * its first quarter fallocated), on its own connection. Aligned writes (4 KiB multiples) and
 * 512-byte-unaligned ones (the seed's 14336 at +512 among them), sync, NOWAIT, ASYNC and DURABLE,
 * reads checked against the model of every acknowledged write, fsync and stat now and then; up to
 * {@value #DEPTH} requests in flight. Confined to its thread ({@link VerifiedIo} judges the answers).
 */
final class VerifiedWriter implements Activity {
    static final int DEPTH = 8;
    private static final int[] WRITE_FLAGS = {0, IoFlags.NOWAIT, IoFlags.ASYNC, IoFlags.DURABLE, IoFlags.ASYNC | IoFlags.NOWAIT,
        IoFlags.ASYNC | IoFlags.DURABLE};
    private static final int[] READ_FLAGS = {0, IoFlags.NOWAIT, IoFlags.ASYNC};

    private final int index;
    private final long fileBytes;

    VerifiedWriter(int index, long fileBytes) {
        this.index = index;
        this.fileBytes = fileBytes;
    }

    @Override
    public String name() {
        return "writer-" + index;
    }

    @Override
    public void run(SoakContext ctx) throws Exception {
        SplittableRandom rnd = ctx.random(name());
        String name = "soak-w" + index;
        try (NodeClient c = ctx.connect()) {
            FileId file = ctx.create(c, name);
            ctx.must(c.truncate(file, fileBytes), "truncate " + name);
            ctx.must(c.fallocate(file, 0, fileBytes / 4, true), "fallocate " + name);
            FileModel model = new FileModel(name, ctx.nextKey(), file, fileBytes, fileBytes, fileBytes / 4);
            ctx.models().put(name, model);
            VerifiedIo io = new VerifiedIo(ctx, c, model, "verified", DEPTH);
            while (ctx.running() && !io.stuck()) {
                int op = rnd.nextInt(100);
                if (op < 55) {
                    write(io, rnd);
                } else if (op < 93) {
                    int len = FileModel.SECTOR * (1 + rnd.nextInt(128));
                    io.read(FileModel.SECTOR * rnd.nextLong((fileBytes - len) / FileModel.SECTOR + 1), len,
                            READ_FLAGS[rnd.nextInt(READ_FLAGS.length)]);
                } else if (op < 97) {
                    io.fsync();
                } else {
                    io.stat();
                }
            }
            io.drain();
            if (!c.isOpen()) {
                ctx.fail(name() + ": the node closed a well-behaved connection: " + c.closeCause());
            }
        }
    }

    private void write(VerifiedIo io, SplittableRandom rnd) throws InterruptedException {
        int flags = WRITE_FLAGS[rnd.nextInt(WRITE_FLAGS.length)];
        if (rnd.nextBoolean()) {
            int len = FileModel.BLOCK * (1 + rnd.nextInt(16));
            io.write(FileModel.BLOCK * rnd.nextLong((fileBytes - len) / FileModel.BLOCK + 1), len, flags);
            return;
        }
        int len = rnd.nextInt(4) == 0 ? 14336 : FileModel.SECTOR * (1 + rnd.nextInt(31));
        long off = FileModel.SECTOR * rnd.nextLong((fileBytes - len) / FileModel.SECTOR + 1);
        if (off % FileModel.BLOCK == 0 && off + FileModel.SECTOR + len <= fileBytes) {
            off += FileModel.SECTOR; // unaligned to the block, as the seed's Test 2
        }
        io.write(off, len, flags);
    }
}
