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
        assertEquals(64 * MIB, p.region(SeedTest.TEST1, "zeroing-aware", 32, List.of()));
        assertEquals(512 * MIB, new RegionPlanner(null, 2048 * MIB, 10).region(SeedTest.TEST2, "overwrite-check", 1, List.of()));
    }

    @Test
    void laterRunsHoldThePredictedWritesWithMargin() {
        RegionPlanner p = new RegionPlanner(null, 2048 * MIB, 5);
        List<Report.Row> m = List.of(row(2, "zeroing-aware", 1, 3000), row(2, "zeroing-aware", 4, 6000));
        long r = p.region(SeedTest.TEST2, "zeroing-aware", 16, m);
        // 6000 x 2 (growth cap) x 1.3 x 5 s / 16 jobs = 4875 writes per job of a 16 KiB stripe
        assertTrue(r >= 4875 * 16384 && r <= 4875 * 16384 + 2 * MIB, "region " + r);
        // another policy at the same jobs: no more than zeroing-aware there
        List<Report.Row> m2 = List.of(row(2, "overwrite-check", 1, 2500), row(2, "zeroing-aware", 4, 6000));
        long r2 = p.region(SeedTest.TEST2, "overwrite-check", 4, m2);
        assertTrue(r2 >= (long) (5000 * 1.3 * 5 / 4) * 16384, "region " + r2);
        assertTrue(r2 < (long) (6000 * 1.3 * 5 / 4 + 65) * 16384 + MIB, "region " + r2);
    }

    @Test
    void fixedRegionIsCappedAndGrowthStopsAtTheCap() {
        RegionPlanner p = new RegionPlanner(256, 1024 * MIB, 5);
        assertEquals(256 * MIB, p.region(SeedTest.TEST1, "x", 1, List.of(row(1, "x", 1, 1e9))));
        assertEquals(32 * MIB, p.region(SeedTest.TEST1, "x", 32, List.of()));
        RegionPlanner auto = new RegionPlanner(null, 1024 * MIB, 5);
        assertEquals(64 * MIB, auto.grow(32 * MIB, 16));
        assertEquals(-1, auto.grow(64 * MIB, 16));
    }
}
