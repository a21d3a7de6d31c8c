package dionode.node.meta;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/** Little-endian field access and CRC32C for metadata images. Stateless, thread-safe. */
public final class Bytes {
    private static final VarHandle U16 = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle U64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Bytes() {
    }

    public static int u16(byte[] b, int off) {
        return Short.toUnsignedInt((short) U16.get(b, off));
    }

    public static void u16(byte[] b, int off, int v) {
        U16.set(b, off, (short) v);
    }

    public static int i32(byte[] b, int off) {
        return (int) U32.get(b, off);
    }

    public static void i32(byte[] b, int off, int v) {
        U32.set(b, off, v);
    }

    public static long i64(byte[] b, int off) {
        return (long) U64.get(b, off);
    }

    public static void i64(byte[] b, int off, long v) {
        U64.set(b, off, v);
    }

    /** CRC32C of {@code b[off, off+len)} seeded with {@code seed} (an inode or block number). */
    public static int crc(long seed, byte[] b, int off, int len) {
        CRC32C c = new CRC32C();
        byte[] s = new byte[8];
        U64.set(s, 0, seed);
        c.update(s);
        c.update(b, off, len);
        return (int) c.getValue();
    }
}
