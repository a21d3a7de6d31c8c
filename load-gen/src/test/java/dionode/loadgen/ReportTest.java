package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.TestJson;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    static final List<Report.Row> ROWS = List.of(
            new Report.Row(1, "overwrite-check", 1, 2000.4, 300.25, 900, 0, 0, 5, 1, 256 << 20, 0),
            new Report.Row(1, "aligned-shared", 1, 2100, 290, 800, 0, 0, 5, 1, 256 << 20, 0),
            new Report.Row(1, "zeroing-aware", 1, 2200, 280, 700, 0, 3, 5, 1, 256 << 20, 0),
            new Report.Row(1, "baseline", 1, 20000, 50, 90, 0, 0, 5, 0, 256 << 20, 0),
            new Report.Row(1, "overwrite-check", 16, 4000, 3000, 9000, 1, 0, 5, 2, 32 << 20, 0),
            new Report.Row(1, "aligned-shared", 16, 9000, 1500, 5000, 0, 0, 5, 2, 32 << 20, 0),
            new Report.Row(1, "zeroing-aware", 16, 10000, 1400, 4000, 0, 0, 5, 2, 32 << 20, 0),
            new Report.Row(1, "baseline", 16, 70000, 200, 700, 0, 0, 5, 0, 32 << 20, 0),
            new Report.Row(2, "zeroing-aware", 1, 2500, 300, 3000, 0, 0, 5, 1, 256 << 20, 0));

    @Test
    void jsonHasExactlyTheContractFields() {
        Object parsed = TestJson.parse(Report.json(ROWS));
        Map<?, ?> top = assertInstanceOf(Map.class, parsed);
        assertEquals(Set.of("results"), top.keySet());
        List<?> results = assertInstanceOf(List.class, top.get("results"));
        assertEquals(ROWS.size(), results.size());
        for (int k = 0; k < results.size(); k++) {
            Map<?, ?> r = assertInstanceOf(Map.class, results.get(k));
            assertEquals(List.of("test", "policy", "jobs", "iops", "p50_us", "p99_us", "errors", "eagain"), List.copyOf(r.keySet()));
            assertInstanceOf(Long.class, r.get("test"));
            assertInstanceOf(String.class, r.get("policy"));
            assertInstanceOf(Long.class, r.get("jobs"));
            assertInstanceOf(Number.class, r.get("iops"));
            assertInstanceOf(Number.class, r.get("p50_us"));
            assertInstanceOf(Number.class, r.get("p99_us"));
            assertInstanceOf(Long.class, r.get("errors"));
            assertInstanceOf(Long.class, r.get("eagain"));
            Report.Row row = ROWS.get(k);
            assertEquals((long) row.test(), r.get("test"));
            assertEquals(row.policy(), r.get("policy"));
            assertEquals((long) row.jobs(), r.get("jobs"));
            assertEquals(row.iops(), ((Number) r.get("iops")).doubleValue(), 0.06);
            assertEquals(row.eagain(), r.get("eagain"));
        }
        Map<?, ?> first = (Map<?, ?>) results.get(0);
        assertEquals(300.3, ((Number) first.get("p50_us")).doubleValue(), 1e-9);
        assertEquals("baseline", ((Map<?, ?>) results.get(3)).get("policy"));
    }

    @Test
    void tableIsShapedLikeTheSeeds() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        Report.tables(new PrintStream(buf, true, StandardCharsets.UTF_8), ROWS, 5, 1);
        String out = buf.toString(StandardCharsets.UTF_8);
        List<String> lines = out.lines().toList();
        int h = lines.indexOf(lines.stream().filter(l -> l.startsWith("JOBS  overwrite-check")).findFirst().orElseThrow());
        assertTrue(lines.get(h).matches("JOBS\\s+overwrite-check\\s+aligned-shared\\s+zeroing-aware\\s+speedup\\s+baseline"), lines.get(h));
        assertTrue(lines.get(h + 1).matches("[- ]+"));
        assertTrue(lines.get(h + 2).matches("1\\s+2,000\\s+2,100\\s+2,200\\s+1\\.10x\\s+20,000"), lines.get(h + 2));
        assertTrue(lines.get(h + 3).matches("16\\s+4,000\\s+9,000\\s+10,000\\s+2\\.50x\\s+70,000"), lines.get(h + 3));
        assertTrue(out.contains("Test 2:"));
        // Test 2 has zeroing-aware only: no speedup column
        assertTrue(out.lines().anyMatch(l -> l.matches("JOBS\\s+zeroing-aware")), out);
        assertTrue(out.contains("p50/p99"));
        assertTrue(out.lines().anyMatch(l -> l.matches("16\\s+overwrite-check\\s+4,000\\s+5\\.00\\s+2\\.00\\s+32\\s+3000\\s+9000\\s+1\\s+0")), out);
    }

    /** The x tick labels xchart draws, read back from its axis after a render. */
    static List<String> xTickLabels(org.knowm.xchart.XYChart chart) throws Exception {
        org.knowm.xchart.BitmapEncoder.getBufferedImage(chart);
        java.lang.reflect.Field pair = org.knowm.xchart.internal.chartpart.Chart.class.getDeclaredField("axisPair");
        pair.setAccessible(true);
        var axis = ((org.knowm.xchart.internal.chartpart.AxisPair<?, ?>) pair.get(chart)).getXAxis();
        return axis.getAxisTickCalculator().getTickLabels().stream().filter(l -> l != null && !l.isEmpty()).toList();
    }

    @Test
    void xAxisLabelsEveryJobCountRun() throws Exception {
        System.setProperty("java.awt.headless", "true");
        List<Report.Row> rows = new java.util.ArrayList<>();
        for (int jobs : new int[] {1, 4, 16}) {
            rows.add(new Report.Row(1, "zeroing-aware", jobs, 1000.0 * jobs, 100, 200, 0, 0, 5, 1, 32 << 20, 0));
            rows.add(new Report.Row(1, "baseline", jobs, 5000.0 * jobs, 50, 90, 0, 0, 5, 0, 32 << 20, 0));
        }
        assertEquals(List.of("1", "4", "16"), xTickLabels(Report.chart(1, rows)));
        assertEquals(List.of("1", "16"), xTickLabels(Report.chart(1, ROWS)));
        List<Report.Row> uneven = List.of(new Report.Row(2, "zeroing-aware", 1, 10, 1, 1, 0, 0, 5, 1, 1, 0),
                new Report.Row(2, "zeroing-aware", 2, 20, 1, 1, 0, 0, 5, 1, 1, 0),
                new Report.Row(2, "zeroing-aware", 32, 30, 1, 1, 0, 0, 5, 1, 1, 0));
        assertEquals(List.of("1", "2", "32"), xTickLabels(Report.chart(2, uneven)));
    }

    @Test
    void pngIsWritten(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("chart.png");
        Report.writePng(png, ROWS);
        byte[] b = Files.readAllBytes(png);
        assertTrue(b.length > 1000);
        assertEquals((byte) 0x89, b[0]);
        assertEquals('P', b[1]);
    }
}
