package dionode.cli.client;

import dionode.cli.option.SizeConverter;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.client.NodeApi;
import java.io.IOException;
import java.io.PrintStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dionode get NAME}: a file (or a range of it) to stdout, in pipelined reads of at most 1 MiB. */
@Command(name = "get", mixinStandardHelpOptions = true,
        description = {"Copy file NAME (from --offset, --length bytes, default to the end of the file) to stdout.",
            "Reads of at most 1 MiB, several in flight, written in order. Reads at 512-byte aligned offsets are "
            + "direct (an unaligned end is read up to the sector boundary and trimmed); a read starting at an "
            + "unaligned offset is buffered up to the next sector boundary. With --buffered every read goes through "
            + "the node's page cache. Stops early at the end of the file."})
public final class GetCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Option(names = "--offset", paramLabel = "N", converter = SizeConverter.class, defaultValue = "0",
            description = "file offset of the first byte (default: ${DEFAULT-VALUE})")
    long offset;

    @Option(names = "--length", paramLabel = "N", converter = SizeConverter.class,
            description = "bytes to copy (default: to the end of the file)")
    Long length;

    @Option(names = "--nowait", description = "NOWAIT reads: EAGAIN instead of waiting for the lock")
    boolean nowait;

    @Option(names = "--buffered", description = "read everything buffered, through the node's page cache (any offset)")
    boolean buffered;

    private boolean eof;
    private boolean outputFailed;

    @Override
    protected int run(NodeApi client) throws IOException {
        FileId file = resolve(client, fileName.name);
        long end = length != null ? offset + length : Math.max(offset, await(client.stat(file)).size());
        PrintStream out = System.out;
        Pipeline<Piece> window = new Pipeline<>(DEPTH, piece -> emit(out, piece));
        long pos = offset;
        while (pos < end && !eof && !outputFailed) {
            int misalign = (int) (pos % SECTOR);
            int want;
            int ask;
            int flags = nowait ? IoFlags.NOWAIT : 0;
            if (buffered) {
                want = (int) Math.min(end - pos, CHUNK);
                ask = want;
                flags |= IoFlags.BUFFERED;
            } else if (misalign != 0) {
                want = (int) Math.min(end - pos, SECTOR - misalign);
                ask = want;
                flags |= IoFlags.BUFFERED;
            } else {
                want = (int) Math.min(end - pos, CHUNK);
                ask = (want + SECTOR - 1) & -SECTOR;
            }
            long at = pos;
            int wanted = want;
            int readFlags = flags;
            window.submit(() -> client.read(file, at, ask, readFlags).thenApply(data -> new Piece(data, wanted)));
            pos += want;
        }
        window.drain();
        out.flush();
        if (outputFailed || out.checkError()) {
            return fail("EIO: writing stdout failed");
        }
        return 0;
    }

    /** Writes a read's bytes (at most {@code want}); a read shorter than that is the end of the file. */
    private void emit(PrintStream out, Piece piece) {
        if (eof || outputFailed) {
            return;
        }
        int got = Math.min(piece.data.length, piece.want);
        out.write(piece.data, 0, got);
        outputFailed = out.checkError();
        eof = got < piece.want;
    }

    /** One read's reply and how many of its bytes were wanted. */
    private record Piece(byte[] data, int want) {
    }
}
