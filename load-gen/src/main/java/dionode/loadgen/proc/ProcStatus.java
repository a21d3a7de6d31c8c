package dionode.loadgen.proc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** A process's or a thread's figures from {@code /proc/PID/status}. Stateless and thread-safe. */
public final class ProcStatus {
    private ProcStatus() {
    }

    /**
     * {@code voluntary_ctxt_switches} (the thread waited: a read, a lock, a sleep) and
     * {@code nonvoluntary_ctxt_switches} (the scheduler took the CPU away). These are one thread's
     * counts, even in /proc/PID/status, where they are the main thread's only: a process's are the
     * sum over /proc/PID/task/TID/status.
     */
    public record Switches(long voluntary, long involuntary) {
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

    /** Reads a status file's context switches; an IOException when the process or thread is gone. */
    public static Switches readSwitches(Path status) throws IOException {
        // decoded leniently: the Name line holds the comm's bytes, which need not be UTF-8
        return switches(new String(Files.readAllBytes(status), StandardCharsets.UTF_8).lines().toList());
    }

    /** The context switches of a status file's lines; a count that is missing is 0. */
    public static Switches switches(List<String> statusLines) {
        long voluntary = 0;
        long involuntary = 0;
        for (String l : statusLines) {
            if (l.startsWith("voluntary_ctxt_switches:")) {
                voluntary = count(l);
            } else if (l.startsWith("nonvoluntary_ctxt_switches:")) {
                involuntary = count(l);
            }
        }
        return new Switches(voluntary, involuntary);
    }

    private static long count(String line) {
        return Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
    }
}
