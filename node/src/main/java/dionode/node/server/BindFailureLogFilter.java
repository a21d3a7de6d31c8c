package dionode.node.server;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.spi.FilterReply;

/**
 * Drops Pekko's own report of a failed bind (an ERROR with a stack trace of Pekko's internals):
 * the node says it once, in the user's terms ({@link Listener#await}). Every other event passes.
 * Wired in logback.xml. Thread-safe (stateless).
 */
public final class BindFailureLogFilter extends Filter<ILoggingEvent> {
    static final String PEKKO_TCP_LISTENER = "org.apache.pekko.io.TcpListener";

    @Override
    public FilterReply decide(ILoggingEvent event) {
        return PEKKO_TCP_LISTENER.equals(event.getLoggerName()) && event.getMessage() != null
                && event.getMessage().startsWith("Bind failed") ? FilterReply.DENY : FilterReply.NEUTRAL;
    }
}
