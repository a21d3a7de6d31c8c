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

    public static int u16(byte[] image, int off) {
        return Short.toUnsignedInt((short) U16.get(image, off));
    }

    public static void u16(byte[] image, int off, int value) {
        U16.set(image, off, (short) value);
    }

    public static int i32(byte[] image, int off) {
        return (int) U32.get(image, off);
    }

    public static void i32(byte[] image, int off, int value) {
        U32.set(image, off, value);
    }

    public static long i64(byte[] image, int off) {
        return (long) U64.get(image, off);
    }

    public static void i64(byte[] image, int off, long value) {
        U64.set(image, off, value);
    }

    /** CRC32C of {@code image[off, off+len)} seeded with {@code seed} (an inode or block number). */
    public static int crc(long seed, byte[] image, int off, int len) {
        CRC32C crc = new CRC32C();
        byte[] seedBytes = new byte[8];
        U64.set(seedBytes, 0, seed);
        crc.update(seedBytes);
        crc.update(image, off, len);
        return (int) crc.getValue();
    }
}
