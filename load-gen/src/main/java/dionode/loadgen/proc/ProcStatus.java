package dionode.loadgen.proc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's figures from {@code /proc/PID/status}. Stateless and thread-safe. */
public final class ProcStatus {
    private ProcStatus() {
    }

    /** VmRSS in KiB, or -1 when there is no such process (or no /proc). */
    public static long vmRssKib(long pid) {
        if (pid < 1) {
            return -1;
        }
        try {
            for (String l : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (l.startsWith("VmRSS:")) {
                    return Long.parseLong(l.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | RuntimeException gone) {
            return -1;
        }
        return -1;
    }
}
