package dionode.loadgen;

import java.util.List;

/**
 * Sizes each job's region so that no job reaches its end within a run, without building layouts
 * much larger than a run consumes (the layout costs one node request per test write it makes room
 * for, so an oversized region costs as much time as the run itself). Pure; thread-compatible.
 *
 * <ul>
 *   <li>{@code --region-mib N}: N MiB for every run (lowered to fit {@code maxFile / jobs}).
 *   <li>Otherwise, a run's IOPS is predicted from the runs already measured for the same test, as
 *       the largest of: the same policy at the next-lower job count times its expected growth
 *       ({@link #growth}: at most 2.5x, since from 1 to 4 jobs the shared-lock policies scale by
 *       up to 3.6x here and a repeated run costs more than a larger layout); any policy at the
 *       next-lower job count; any policy at the same job count (noise on one run must not starve
 *       the next). The region holds {@link #MARGIN} x that rate x the
 *       duration. With nothing measured: room for {@link #INITIAL_WRITES_PER_5S} writes per 5 s
 *       (256 MiB for Test 1, 512 MiB for Test 2).
 *   <li>A run in which a job reached the end of its region is repeated ({@link #grow}) with a
 *       region sized from the rate that run reached (x1.5), at least twice the old one, up to
 *       {@code maxFile / jobs}.
 * </ul>
 */
public final class RegionPlanner {
    public static final int INITIAL_WRITES_PER_5S = 32768;
    public static final double MARGIN = 1.6;
    public static final double MAX_GROWTH = 2.5;
    static final long MIB = 1 << 20;
    static final long MIN_REGION = 4 * MIB;

    private final Integer fixedMib;
    private final long maxFileBytes;
    private final int durationS;

    public RegionPlanner(Integer fixedMib, long maxFileBytes, int durationS) {
        if (maxFileBytes < MIB || durationS < 1 || (fixedMib != null && fixedMib < 1)) {
            throw new IllegalArgumentException("region, file size and duration must be positive");
        }
        this.fixedMib = fixedMib;
        this.maxFileBytes = maxFileBytes;
        this.durationS = durationS;
    }

    /** The largest region a run with {@code jobs} jobs may get. */
    public long max(int jobs) {
        long m = maxFileBytes / jobs / MIB * MIB;
        if (fixedMib != null) {
            m = Math.min(m, fixedMib * MIB);
        }
        if (m < MIB) {
            throw new IllegalArgumentException(jobs + " jobs do not fit in a file of " + (maxFileBytes >> 20) + " MiB");
        }
        return m;
    }

    /** The region for the next run of ({@code test}, {@code policy}, {@code jobs}), given the rows measured so far. */
    public long region(SeedTest test, String policy, int jobs, List<Report.Row> measured) {
        long max = max(jobs);
        if (fixedMib != null) {
            return max;
        }
        double est = predictIops(test, policy, jobs, measured);
        if (est <= 0) {
            return Math.min(max, Math.max(MIN_REGION, (long) INITIAL_WRITES_PER_5S * durationS / 5 * test.stride() / MIB * MIB));
        }
        return Math.min(max, Math.max(MIN_REGION, bytesFor(test, est, jobs, MARGIN)));
    }

    /** Predicted IOPS of the run, or 0 when nothing measured predicts it. */
    static double predictIops(SeedTest test, String policy, int jobs, List<Report.Row> measured) {
        int prevJobs = 0;
        for (Report.Row r : measured) {
            if (r.test() == test.number() && !r.policy().equals(Report.BASELINE) && r.jobs() < jobs) {
                prevJobs = Math.max(prevJobs, r.jobs());
            }
        }
        double est = 0;
        for (Report.Row r : measured) {
            if (r.test() != test.number() || r.policy().equals(Report.BASELINE)) {
                continue;
            }
            if (r.jobs() == prevJobs) {
                double growth = r.policy().equals(policy) ? growth(test, policy, jobs, r, measured) : 1;
                est = Math.max(est, r.iops() * growth);
            } else if (r.jobs() == jobs) {
                est = Math.max(est, r.iops());
            }
        }
        return est;
    }

    /**
     * How much faster the same policy should run at {@code jobs} than it did in {@code prev}: the
     * growth in jobs, at most {@link #MAX_GROWTH}, and once the step before is known at most the
     * square root of the growth seen then (with one request per job, a policy scales almost
     * linearly until the cores are busy, then flattens: 1 to 4 jobs is 3.2x here, 4 to 16 1.7x).
     */
    private static double growth(SeedTest test, String policy, int jobs, Report.Row prev, List<Report.Row> measured) {
        double growth = Math.min((double) jobs / prev.jobs(), MAX_GROWTH);
        Report.Row before = null;
        for (Report.Row r : measured) {
            if (r.test() == test.number() && r.policy().equals(policy) && r.jobs() < prev.jobs()
                    && (before == null || r.jobs() > before.jobs())) {
                before = r;
            }
        }
        if (before != null && before.iops() > 0) {
            growth = Math.min(growth, Math.max(1, Math.sqrt(prev.iops() / before.iops())));
        }
        return growth;
    }

    /** Writes per job to make room for at {@code iops} over the duration, with {@code margin}. */
    private long bytesFor(SeedTest test, double iops, int jobs, double margin) {
        double writesPerJob = iops * margin * durationS / jobs + 64;
        return (long) Math.ceil(writesPerJob * test.stride() / MIB) * MIB;
    }

    /**
     * The region to repeat a run with after a job reached the end of {@code region} while the run
     * went at {@code iops}; -1 when it cannot grow.
     */
    public long grow(SeedTest test, long region, int jobs, double iops) {
        long max = max(jobs);
        if (region >= max) {
            return -1;
        }
        return Math.min(max, Math.max(2 * region, bytesFor(test, iops, jobs, 1.5)));
    }
}
