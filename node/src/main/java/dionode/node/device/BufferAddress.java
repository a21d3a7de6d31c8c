package dionode.node.device;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.lang.reflect.Field;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The native address of a direct buffer's first byte (index 0, not its position).
 *
 * <p>JNA's {@code Native.getDirectBufferPointer} answers this too, but allocates a
 * {@code Pointer} per call, and this sits on the device I/O hot path. So the
 * {@code Buffer.address} field is read through {@code sun.misc.Unsafe} (as Netty
 * and Agrona do); {@code jdk.unsupported} keeps that open on JDK 17 without
 * command-line flags. If it is unavailable, or disagrees with JNA at start, JNA
 * is used.
 *
 * <p>Thread-safe (stateless after class initialisation).
 */
final class BufferAddress {
    private static final Logger LOG = LoggerFactory.getLogger(BufferAddress.class);
    private static final sun.misc.Unsafe UNSAFE;
    private static final long ADDRESS_OFFSET;

    static {
        sun.misc.Unsafe unsafe = null;
        long offset = -1;
        try {
            Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            unsafe = (sun.misc.Unsafe) f.get(null);
            offset = unsafe.objectFieldOffset(Buffer.class.getDeclaredField("address"));
            ByteBuffer probe = ByteBuffer.allocateDirect(64);
            ByteBuffer sliced = probe.position(8).slice();
            long viaJna = Pointer.nativeValue(Native.getDirectBufferPointer(sliced));
            if (unsafe.getLong(sliced, offset) != viaJna) {
                LOG.warn("Buffer.address read through Unsafe disagrees with JNA; using JNA (allocates per I/O)");
                unsafe = null;
            }
        } catch (Throwable t) {
            LOG.warn("Buffer.address not readable through Unsafe ({}); using JNA (allocates per I/O)", t.toString());
            unsafe = null;
        }
        UNSAFE = unsafe;
        ADDRESS_OFFSET = offset;
    }

    private BufferAddress() {
    }

    /** Address of index 0 of a direct buffer. The caller must keep {@code directBuf} reachable while using it. */
    static long of(ByteBuffer directBuf) {
        if (UNSAFE != null) {
            return UNSAFE.getLong(directBuf, ADDRESS_OFFSET);
        }
        return Pointer.nativeValue(Native.getDirectBufferPointer(directBuf));
    }
}
