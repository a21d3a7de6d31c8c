package dionode.loadgen;

import java.util.List;

/**
 * Sizes each job's region so that no job reaches its end within a run, without building layouts
 * much larger than a run consumes (the layout costs one node request per test write it makes room
 * for, so an oversized region costs as much time as the run itself). Pure; thread-compatible.
 *
 * <ul>
 *   <li>{@code --region-mib N}: N MiB for every run (lowered to fit {@code maxFile / jobs}).
 *   <li>Otherwise, a run's IOPS is predicted from the runs already measured for the same test: the
 *       same policy at the next-lower job count, times the growth in jobs (at most 2x); and, for a
 *       policy other than zeroing-aware, no more than zeroing-aware at the same job count (it takes
 *       the shared lock most often). The region holds {@link #MARGIN} x that rate x the duration.
 *       With no prediction: {@link #INITIAL_MIB_PER_5S} MiB per 5 s.
 *   <li>A run in which a job reached the end of its region is repeated with twice the region
 *       ({@link #grow}), up to {@code maxFile / jobs}.
 * </ul>
 */
public final class RegionPlanner {
    public static final int INITIAL_MIB_PER_5S = 256;
    public static final double MARGIN = 1.3;
    public static final double MAX_GROWTH = 2.0;
    static final long MIB = 1 << 20;
    static final long MIN_REGION = 4 * MIB;
    static final String FASTEST = "zeroing-aware";

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
            return Math.min(max, Math.max(MIN_REGION, (long) INITIAL_MIB_PER_5S * durationS / 5 * MIB));
        }
        double writesPerJob = est * MARGIN * durationS / jobs + 64;
        long bytes = (long) Math.ceil(writesPerJob * test.stride() / MIB) * MIB;
        return Math.min(max, Math.max(MIN_REGION, bytes));
    }

    /** Predicted IOPS of the run, or 0 when nothing measured predicts it. */
    static double predictIops(SeedTest test, String policy, int jobs, List<Report.Row> measured) {
        Report.Row prev = null;
        Report.Row fastestHere = null;
        for (Report.Row r : measured) {
            if (r.test() != test.number() || r.exhaustedJobs() > 0) {
                continue;
            }
            if (r.policy().equals(policy) && r.jobs() < jobs && (prev == null || r.jobs() > prev.jobs())) {
                prev = r;
            }
            if (r.policy().equals(FASTEST) && r.jobs() == jobs) {
                fastestHere = r;
            }
        }
        double est = 0;
        if (prev != null) {
            est = prev.iops() * Math.min((double) jobs / prev.jobs(), MAX_GROWTH);
        }
        if (fastestHere != null && !policy.equals(FASTEST)) {
            est = est > 0 ? Math.min(est, fastestHere.iops()) : fastestHere.iops();
        }
        return est;
    }

    /** The region to repeat an exhausted run with, or -1 when it cannot grow. */
    public long grow(long region, int jobs) {
        long max = max(jobs);
        return region >= max ? -1 : Math.min(max, region * 2);
    }
}
