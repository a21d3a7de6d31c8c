package dionode.node.device;

import java.io.IOException;

/**
 * A unit of blocking device work for {@link IoExecutor}; may fail with an
 * {@link IOException}, which completes its future exceptionally.
 *
 * <p>Thread-safety is the task's own business: it runs on one pool thread.
 */
@FunctionalInterface
public interface IoTask<T> {
    T run() throws IOException;
}
