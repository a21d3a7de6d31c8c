package dionode.loadgen.soak;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * The bytes of a soak write: every 8-byte word is splitmix64 of (file key, write sequence, byte
 * position), so two writes, two files or two places never hold the same bytes and a model needs
 * only the sequence of each sector's last write. Stateless and thread-safe.
 */
final class Pattern {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Pattern() {
    }

    /** Fills {@code dst[at, at+length)} with write {@code seq}'s bytes at file position {@code pos} (all multiples of 8). */
    static void fill(byte[] dst, int at, int length, long key, int seq, long pos) {
        for (int i = 0; i < length; i += 8) {
            LONGS.set(dst, at + i, word(key, seq, pos + i));
        }
    }

    static long word(long key, int seq, long pos) {
        long z = key * 0x9E3779B97F4A7C15L ^ (seq + 1L) * 0xC2B2AE3D27D4EB4FL ^ pos;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
