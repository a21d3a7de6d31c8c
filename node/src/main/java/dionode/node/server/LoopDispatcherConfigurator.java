package dionode.node.server;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dionode.node.loop.EventLoopGroup;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import org.apache.pekko.dispatch.DispatcherPrerequisites;
import org.apache.pekko.dispatch.ExecutorServiceConfigurator;
import org.apache.pekko.dispatch.ExecutorServiceFactory;

/**
 * Pekko's dispatcher running on the node's event loops: {@code executor =
 * "dionode.node.server.LoopDispatcherConfigurator"} with {@code loop-group} naming a running
 * {@link EventLoopGroup} ({@link #config}). Pekko builds it by reflection; it holds nothing but
 * the group's id. Thread-safe.
 */
public final class LoopDispatcherConfigurator extends ExecutorServiceConfigurator {
    private final String group;

    public LoopDispatcherConfigurator(Config config, DispatcherPrerequisites prerequisites) {
        super(config, prerequisites);
        this.group = config.getString("loop-group");
    }

    /** What makes {@code dispatcherPath} (a dispatcher's config path) run on {@code loops}. */
    static Config config(String dispatcherPath, EventLoopGroup loops) {
        return ConfigFactory.parseMap(Map.of(
                dispatcherPath + ".executor", LoopDispatcherConfigurator.class.getName(),
                dispatcherPath + ".loop-group", loops.id()));
    }

    @Override
    public ExecutorServiceFactory createExecutorServiceFactory(String id, ThreadFactory threadFactory) {
        return () -> EventLoopGroup.named(group);
    }
}
