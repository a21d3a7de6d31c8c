package dionode.node.crash;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Self-describing file data for the crash tests: every 512-byte sector written carries who wrote
 * it (iteration, file, stream), where it belongs (its sector number in the file) and which
 * operation wrote it (a generation), followed by a pattern derived from all of these. A sector read
 * back is therefore all zeros, or names exactly one write, or is garbage (another file's data,
 * misplaced, torn or stale data is recognized as such). Stateless.
 *
 * <pre>
 *  0        4           8        12       16                24               32          512
 *  +--------+-----------+--------+--------+-----------------+----------------+-----------+
 *  | "DNCR" | iteration | file   | stream | sector (u64)    | generation u64 | pattern   |
 *  +--------+-----------+--------+--------+-----------------+----------------+-----------+
 * </pre>
 */
public final class Sectors {
    public static final int SECTOR = 512;
    static final int MAGIC = 0x52434E44; // "DNCR" little-endian

    private Sectors() {
    }

    /** One sector's identity as decoded. */
    public record Id(int iteration, int file, int stream, long sector, long gen) {
    }

    /** The bytes of a write of {@code len} bytes at file offset {@code off} (both sector multiples). */
    public static byte[] payload(int iteration, int file, int stream, long off, int len, long gen) {
        byte[] b = new byte[len];
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < len / SECTOR; i++) {
            fill(bb, i * SECTOR, iteration, file, stream, off / SECTOR + i, gen);
        }
        return b;
    }

    private static void fill(ByteBuffer bb, int at, int iteration, int file, int stream, long sector, long gen) {
        bb.putInt(at, MAGIC);
        bb.putInt(at + 4, iteration);
        bb.putInt(at + 8, file);
        bb.putInt(at + 12, stream);
        bb.putLong(at + 16, sector);
        bb.putLong(at + 24, gen);
        long x = mix(((long) iteration << 48) ^ ((long) file << 32) ^ (sector << 8) ^ gen * 0x9E3779B97F4A7C15L);
        for (int o = 32; o < SECTOR; o += 8) {
            x = mix(x + 0x9E3779B97F4A7C15L);
            bb.putLong(at + o, x);
        }
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Null for an all-zero sector; the identity of a well-formed one. @throws IllegalStateException for garbage */
    public static Id decode(byte[] data, int at) {
        boolean zero = true;
        for (int i = 0; i < SECTOR; i++) {
            if (data[at + i] != 0) {
                zero = false;
                break;
            }
        }
        if (zero) {
            return null;
        }
        ByteBuffer bb = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
        if (bb.getInt(at) != MAGIC) {
            throw new IllegalStateException("not a sector this test wrote (no magic; first bytes "
                    + java.util.HexFormat.of().formatHex(data, at, at + 16) + ")");
        }
        Id id = new Id(bb.getInt(at + 4), bb.getInt(at + 8), bb.getInt(at + 12), bb.getLong(at + 16), bb.getLong(at + 24));
        byte[] expect = new byte[SECTOR];
        fill(ByteBuffer.wrap(expect).order(ByteOrder.LITTLE_ENDIAN), 0, id.iteration(), id.file(), id.stream(), id.sector(),
                id.gen());
        for (int i = 0; i < SECTOR; i++) {
            if (expect[i] != data[at + i]) {
                throw new IllegalStateException("torn or corrupt sector " + id + ": byte " + i + " differs");
            }
        }
        return id;
    }
}
