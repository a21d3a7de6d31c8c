package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RegionPlannerTest {
    static final long MIB = 1 << 20;

    static Report.Row row(int test, String policy, int jobs, double iops) {
        return new Report.Row(test, policy, jobs, iops, 0, 0, 0, 0, 5, 1, 64 * MIB, 0);
    }

    @Test
    void firstRunGetsTheInitialRegionWithinTheFileCap() {
        RegionPlanner p = new RegionPlanner(null, 2048 * MIB, 5);
        assertEquals(256 * MIB, p.region(SeedTest.TEST1, "zeroing-aware", 1, List.of()));
        assertEquals(512 * MIB, p.region(SeedTest.TEST2, "zeroing-aware", 1, List.of()));
        assertEquals(64 * MIB, p.region(SeedTest.TEST1, "zeroing-aware", 32, List.of()));
        assertEquals(1024 * MIB, new RegionPlanner(null, 2048 * MIB, 10).region(SeedTest.TEST2, "overwrite-check", 1, List.of()));
    }

    @Test
    void laterRunsHoldThePredictedWritesWithMargin() {
        RegionPlanner p = new RegionPlanner(null, 2048 * MIB, 5);
        List<Report.Row> m = List.of(row(2, "zeroing-aware", 1, 3000), row(2, "zeroing-aware", 4, 6000),
                row(2, "overwrite-check", 4, 4000), row(1, "zeroing-aware", 4, 90000), row(2, "baseline", 4, 90000));
        long r = p.region(SeedTest.TEST2, "zeroing-aware", 16, m);
        // 6000 x sqrt(6000 / 3000) (it grew 2x from 1 to 4 jobs) x 1.6 x 5 s / 16 jobs = 4243 writes per job of a 16 KiB stripe
        assertTrue(r >= 4242 * 16384 && r <= 4308 * 16384 + MIB, "region " + r);
        // another policy: its own growth, but never below what any policy did at the previous job count
        long r2 = p.region(SeedTest.TEST2, "overwrite-check", 16, m);
        assertTrue(r2 >= 10000 * 1.6 * 5 / 16 * 16384 && r2 <= (10000 * 1.6 * 5 / 16 + 65) * 16384 + MIB, "region " + r2);
        long r3 = p.region(SeedTest.TEST2, "aligned-shared", 16, m);
        assertTrue(r3 >= 6000 * 1.6 * 5 / 16 * 16384 && r3 <= (6000 * 1.6 * 5 / 16 + 65) * 16384 + MIB, "region " + r3);
        // the same job count measured for another policy counts too
        List<Report.Row> m2 = List.of(row(1, "overwrite-check", 1, 1000), row(1, "zeroing-aware", 1, 2000));
        long r4 = p.region(SeedTest.TEST1, "aligned-shared", 1, m2);
        assertTrue(r4 >= 2000 * 1.6 * 5 * 8192 && r4 <= (2000 * 1.6 * 5 + 65) * 8192 + MIB, "region " + r4);
    }

    @Test
    void growthFlattensAfterAStepThatGrewLess() {
        RegionPlanner p = new RegionPlanner(null, 4096 * MIB, 5);
        // 1 -> 4 jobs went 3000 -> 9000 (3x): 4 -> 16 is predicted at most sqrt(3) x, not 2.5x
        List<Report.Row> m = List.of(row(1, "zeroing-aware", 1, 3000), row(1, "zeroing-aware", 4, 9000));
        assertEquals(9000 * Math.sqrt(3), RegionPlanner.predictIops(SeedTest.TEST1, "zeroing-aware", 16, m), 1e-6);
        // a policy that did not grow keeps its rate (never predicted below it)
        List<Report.Row> flat = List.of(row(1, "overwrite-check", 1, 3000), row(1, "overwrite-check", 4, 2500));
        assertEquals(2500, RegionPlanner.predictIops(SeedTest.TEST1, "overwrite-check", 16, flat), 1e-6);
        // without the step before, the jobs' growth up to 2.5x
        assertEquals(7500, RegionPlanner.predictIops(SeedTest.TEST1, "aligned-shared", 4,
                List.of(row(1, "aligned-shared", 1, 3000))), 1e-6);
    }

    @Test
    void fixedRegionIsCappedAndARepeatGrowsFromTheRateReached() {
        RegionPlanner p = new RegionPlanner(256, 1024 * MIB, 5);
        assertEquals(256 * MIB, p.region(SeedTest.TEST1, "x", 1, List.of(row(1, "x", 1, 1e9))));
        assertEquals(32 * MIB, p.region(SeedTest.TEST1, "x", 32, List.of()));
        RegionPlanner auto = new RegionPlanner(null, 1024 * MIB, 5);
        assertEquals(16 * MIB, auto.grow(SeedTest.TEST1, 8 * MIB, 16, 10));
        // 16 jobs at 8000 IOPS x 1.5 x 5 s: 3750 writes of 8 KiB per job
        long g = auto.grow(SeedTest.TEST1, 8 * MIB, 16, 8000);
        assertTrue(g >= 3750 * 8192 && g <= 3814 * 8192 + MIB, "grown to " + g);
        assertEquals(64 * MIB, auto.grow(SeedTest.TEST1, 32 * MIB, 16, 1e6));
        assertEquals(-1, auto.grow(SeedTest.TEST1, 64 * MIB, 16, 1e6));
    }
}
