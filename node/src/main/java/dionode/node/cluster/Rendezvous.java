package dionode.node.cluster;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Highest-random-weight placement of a name over volumes: every member computes the same volume
 * from the same set, and a volume joining or leaving moves only the names it wins or held. Pure.
 */
public final class Rendezvous {
    private Rendezvous() {
    }

    /** The volume {@code name} goes on, of {@code volumes} (not empty). */
    public static String pick(String name, List<String> volumes) {
        String best = null;
        long bestScore = 0;
        for (String v : volumes) {
            long score = score(v, name);
            if (best == null || Long.compareUnsigned(score, bestScore) > 0
                    || (score == bestScore && v.compareTo(best) < 0)) {
                best = v;
                bestScore = score;
            }
        }
        if (best == null) {
            throw new IllegalArgumentException("no volume to place '" + name + "' on");
        }
        return best;
    }

    /** FNV-1a over volume, a 0 byte and the name, then splitmix64's finalizer: stable across JVMs and releases. */
    static long score(String volume, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : (volume + '\0' + name).getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }
}
