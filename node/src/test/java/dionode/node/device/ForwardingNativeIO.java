package dionode.node.device;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * The pass-through half of every {@link NativeIO} twin in the tests: each method forwards to the
 * wrapped implementation, so a twin overrides only the calls it intercepts. Every {@code NativeIO}
 * method, default ones included, is declared here ({@link NativeIOTwinsTest} checks it): a method
 * added to the interface later must be placed deliberately, not fall through to a default that
 * the twins never see.
 *
 * <p>Thread-safe as far as the delegate is: it holds no state of its own.
 */
public abstract class ForwardingNativeIO implements NativeIO {
    protected final NativeIO delegate;

    protected ForwardingNativeIO(NativeIO delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** Goes through this twin's three-argument {@link #open(String, int, int)}, as the interface's default does. */
    @Override
    public int open(String path, int flags) throws NativeIOException {
        return open(path, flags, DEFAULT_CREATE_MODE);
    }

    @Override
    public int open(String path, int flags, int mode) throws NativeIOException {
        return delegate.open(path, flags, mode);
    }

    @Override
    public void close(int fd) throws NativeIOException {
        delegate.close(fd);
    }

    @Override
    public long pread(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
        return delegate.pread(fd, directBuf, count, offset);
    }

    @Override
    public long pwrite(int fd, ByteBuffer directBuf, int count, long offset) throws NativeIOException {
        return delegate.pwrite(fd, directBuf, count, offset);
    }

    @Override
    public void fdatasync(int fd) throws NativeIOException {
        delegate.fdatasync(fd);
    }

    @Override
    public void fallocate(int fd, int mode, long offset, long length) throws NativeIOException {
        delegate.fallocate(fd, mode, offset, length);
    }

    @Override
    public long mmap(long length, int prot, int flags, int fd, long offset) throws NativeIOException {
        return delegate.mmap(length, prot, flags, fd, offset);
    }

    @Override
    public void msync(long address, long length, int flags) throws NativeIOException {
        delegate.msync(address, length, flags);
    }

    @Override
    public void munmap(long address, long length) throws NativeIOException {
        delegate.munmap(address, length);
    }

    @Override
    public long blockDeviceSize(int fd) throws NativeIOException {
        return delegate.blockDeviceSize(fd);
    }

    @Override
    public int blockDeviceSectorSize(int fd) throws NativeIOException {
        return delegate.blockDeviceSectorSize(fd);
    }

    @Override
    public void flock(int fd, int operation) throws NativeIOException {
        delegate.flock(fd, operation);
    }

    @Override
    public FileStat fstat(int fd) throws NativeIOException {
        return delegate.fstat(fd);
    }

    @Override
    public long ioSetup(int maxEvents) throws NativeIOException {
        return delegate.ioSetup(maxEvents);
    }

    @Override
    public int ioSubmit(long context, long iocbPointers, int count) throws NativeIOException {
        return delegate.ioSubmit(context, iocbPointers, count);
    }

    @Override
    public int ioGetEvents(long context, int minEvents, int maxEvents, long events, long timeoutNanos) throws NativeIOException {
        return delegate.ioGetEvents(context, minEvents, maxEvents, events, timeoutNanos);
    }

    @Override
    public int ioPeekEvents(long context, int maxEvents, ByteBuffer events) throws NativeIOException {
        return delegate.ioPeekEvents(context, maxEvents, events);
    }

    @Override
    public void ioDestroy(long context) throws NativeIOException {
        delegate.ioDestroy(context);
    }
}
