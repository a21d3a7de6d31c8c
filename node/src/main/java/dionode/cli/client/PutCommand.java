package dionode.cli.client;

import dionode.cli.option.SizeConverter;
import dionode.cli.option.UsageErrors;
import dionode.protocol.FileId;
import dionode.protocol.IoFlags;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeApi;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code dionode put NAME}: stdin into a file, created if missing, streamed in pipelined 1 MiB writes. */
@Command(name = "put", mixinStandardHelpOptions = true,
        description = {"Write stdin into file NAME at --offset, creating it if missing (an existing file is not truncated).",
            "Stdin is streamed in 1 MiB direct writes, several in flight. Pieces that are not 512-byte aligned (the "
            + "head before an unaligned --offset reaches a sector boundary, the tail of the input) are written "
            + "buffered, so any length works. --nowait applies to the direct writes (the node refuses buffered "
            + "NOWAIT writes). Prints nothing on success."})
public final class PutCommand extends ClientCommand {
    @Mixin
    FileName fileName;

    @Option(names = "--policy", paramLabel = "P", converter = PolicyConverter.class,
            description = "lock policy when put creates the file: overwrite-check, aligned-shared or zeroing-aware "
                    + "(default: the node's)")
    LockPolicy policy;

    @Option(names = "--offset", paramLabel = "N", converter = SizeConverter.class, defaultValue = "0",
            description = "file offset of the first byte (default: ${DEFAULT-VALUE})")
    long offset;

    @Option(names = "--nowait", description = "NOWAIT direct writes: EAGAIN instead of waiting (e.g. for an extending write)")
    boolean nowait;

    @Option(names = "--buffered", description = "write everything buffered, into the node's page cache (byte-granular; exclusive lock; on "
            + "the device after writeback, or at once with --sync)")
    boolean buffered;

    @Option(names = "--dax", description = "when put creates the file, make it a DAX file: its data is read and written "
            + "through the node's mapping of its device (refused, EOPNOTSUPP, where the device cannot be mapped)")
    boolean dax;

    @Option(names = "--mapping", paramLabel = "M", defaultValue = "extents",
            description = "how a file put creates maps its blocks: extents (default) or indirect (ext3-style block "
                    + "pointers: no unwritten blocks, so direct writes into holes fall back to buffered I/O; fallocate is "
                    + "EOPNOTSUPP)")
    String mapping;

    @Option(names = "--volume", paramLabel = "ID",
            description = "in a cluster, create the file on this volume (a uuid that 'members' lists) instead of the one its "
                    + "name hashes to; a node alone accepts only its own volume")
    String volume;

    @Option(names = "--sync", description = "durable: DURABLE writes, then fsync")
    boolean sync;

    @Option(names = {"-v", "--verbose"}, description = "print a summary on stderr")
    boolean verbose;

    private long bytes;
    private int writes;
    private int bufferedWrites;

    @Override
    protected void validate() {
        if (!mapping.equals("extents") && !mapping.equals("indirect")) {
            throw new ParameterException(spec.commandLine(), "--mapping must be extents or indirect, not '" + mapping + "'");
        }
        if (nowait && buffered) {
            throw new ParameterException(spec.commandLine(), "--nowait cannot be combined with --buffered "
                    + "(buffered writes cannot be NOWAIT)");
        }
    }

    @Override
    protected int run(NodeApi client) throws IOException {
        Reply.InodeInfo info = await(client.create(new Request.Create(fileName.name, policy, 0644, false, dax, mapping.equals("indirect"), volume)));
        FileId file = info.file();
        int direct = (nowait ? IoFlags.NOWAIT : 0) | (sync ? IoFlags.DURABLE : 0);
        int slow = IoFlags.BUFFERED | (sync ? IoFlags.DURABLE : 0);
        Pipeline<Long> window = new Pipeline<>(DEPTH, written -> bytes += written);
        InputStream in = System.in;
        byte[] buf = new byte[CHUNK];
        long pos = offset;
        while (true) {
            int misalign = (int) (pos % SECTOR);
            int want = buffered || misalign == 0 ? CHUNK : SECTOR - misalign;
            int got = in.readNBytes(buf, 0, want);
            if (got == 0) {
                break;
            }
            if (buffered) {
                submit(window, client, file, pos, Arrays.copyOf(buf, got), slow);
            } else if (misalign != 0) {
                window.drain();
                submit(window, client, file, pos, Arrays.copyOf(buf, got), slow);
                window.drain(); // the direct writes that follow share its block
            } else {
                int aligned = got & -SECTOR;
                if (aligned > 0) {
                    submit(window, client, file, pos, aligned == CHUNK ? buf : Arrays.copyOf(buf, aligned), direct);
                }
                if (aligned < got) { // the end of the input
                    window.drain();
                    submit(window, client, file, pos + aligned, Arrays.copyOfRange(buf, aligned, got), slow);
                }
            }
            pos += got;
        }
        window.drain();
        if (sync) {
            await(client.fsync(file));
        }
        if (verbose) {
            System.err.printf("%s: %d bytes at offset %d in %d writes (%d buffered), ino %d%s%n", fileName.name, bytes, offset,
                    writes, bufferedWrites, file.ino(), info.created() ? ", created" : "");
        }
        return 0;
    }

    /** The client encodes {@code data} before returning, so the read buffer may be reused at once. */
    private void submit(Pipeline<Long> window, NodeApi client, FileId file, long pos, byte[] data, int flags) {
        writes++;
        if ((flags & IoFlags.BUFFERED) != 0) {
            bufferedWrites++;
        }
        window.submit(() -> client.write(file, pos, data, flags));
    }

    /** picocli converter for {@code --policy}. */
    public static final class PolicyConverter implements ITypeConverter<LockPolicy> {
        @Override
        public LockPolicy convert(String value) {
            return UsageErrors.parse(value, LockPolicy::parse);
        }
    }
}
