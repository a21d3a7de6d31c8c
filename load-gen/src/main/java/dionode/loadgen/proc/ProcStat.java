package dionode.loadgen.proc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * {@code /proc/PID/stat} and {@code /proc/PID/task/TID/stat} (proc(5)): a process's or a thread's
 * name and CPU times, and the clock tick they are counted in. Stateless and thread-safe.
 */
public final class ProcStat {
    private ProcStat() {
    }

    /**
     * Fields 2, 14, 15 and 22 of a stat line: comm (at most 15 characters), utime and stime (clock
     * ticks; the whole thread group's, dead threads included, in /proc/PID/stat; one thread's in
     * /proc/PID/task/TID/stat) and starttime (ticks after boot: with the id, it names the thread).
     */
    public record Line(String comm, long userTicks, long sysTicks, long startTicks) {
    }

    /** Parses one stat line; comm may hold spaces and parentheses (a program named "a) (b"), so it ends at the last ')'. */
    public static Line parse(String line) {
        int open = line.indexOf('(');
        int close = line.lastIndexOf(')');
        if (open < 0 || close < open) {
            throw new IllegalArgumentException("not a /proc stat line: " + line);
        }
        String[] rest = line.substring(close + 1).trim().split(" +"); // rest[0] is field 3, the state
        if (rest.length < 22 - 2) {
            throw new IllegalArgumentException("a /proc stat line with too few fields: " + line);
        }
        return new Line(line.substring(open + 1, close), Long.parseLong(rest[14 - 3]), Long.parseLong(rest[15 - 3]),
                Long.parseLong(rest[22 - 3]));
    }

    /** Reads and parses a stat file; an IOException when the process or thread is gone. */
    public static Line read(Path stat) throws IOException {
        // not Files.readString: a comm is bytes, and one that is not UTF-8 must not fail the read
        return parse(new String(Files.readAllBytes(stat), StandardCharsets.UTF_8));
    }

    /** Clock ticks per second (USER_HZ), the unit of utime and stime. */
    public static long ticksPerSecond() {
        return Hz.VALUE;
    }

    /** Asked of {@code getconf CLK_TCK} once, on first use. */
    private static final class Hz {
        static final long VALUE = clockTicks();
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
            if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return Long.parseLong(out);
            }
            p.destroyForcibly();
        } catch (IOException | NumberFormatException noGetconf) {
            // below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // Assumed only without getconf: USER_HZ is 100 on every architecture Linux runs a JDK on (x86, arm64, ppc64, s390x, riscv)
        return 100;
    }
}
