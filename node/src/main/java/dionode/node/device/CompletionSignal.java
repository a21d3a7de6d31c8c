package dionode.node.device;

/**
 * Where an {@link AioRing} learns of completions when it has no thread of its own waiting for
 * them: an eventfd the kernel signals on each completion ({@code IOCB_FLAG_RESFD}), watched by an
 * event loop that runs the ring's reaping when it is. Implementations say their thread-safety.
 */
public interface CompletionSignal extends AutoCloseable {
    /** The eventfd to name in each iocb. */
    int eventFd();

    /** From now on, {@code reap} runs on the watching loop's thread each time the eventfd is signalled (it must not block). */
    void onSignal(Runnable reap);

    /**
     * When the calling thread is an event loop, runs {@code flush} there once the tasks of its
     * present pass have run, before it polls or sleeps, and says true; elsewhere false, and nothing
     * runs. Submissions a pass gathers then enter the kernel in one system call.
     */
    boolean deferToPoll(Runnable flush);

    /** Stops watching and closes the eventfd; completions are then reaped by whoever closes the ring. */
    @Override
    void close();
}
