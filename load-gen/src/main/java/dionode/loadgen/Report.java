package dionode.loadgen;

import dionode.cli.common.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The seed's tables, the JSON results and the chart. Stateless.
 */
public final class Report {
    public static final String BASELINE = "baseline";
    static final String SPEEDUP_NUM = "zeroing-aware";
    static final String SPEEDUP_DEN = "overwrite-check";

    private Report() {
    }

    /**
     * One measured run.
     *
     * @param wallS the measured part (connect to last reply), seconds
     * @param layoutS building and checking the layout (0 for the baseline), seconds
     */
    public record Row(int test, String policy, int jobs, double iops, double p50us, double p99us, long errors, long eagain,
            double wallS, double layoutS, long regionBytes, int exhaustedJobs) {
    }

    /** Prints, per test, the IOPS table, the latency table and the per-run table. */
    public static void tables(PrintStream out, List<Row> rows, int durationS, int iodepth) {
        Set<Integer> tests = new TreeSet<>();
        rows.forEach(r -> tests.add(r.test()));
        for (int t : tests) {
            List<Row> rs = rows.stream().filter(r -> r.test() == t).toList();
            List<String> cols = new ArrayList<>();
            rs.stream().map(Row::policy).filter(p -> !p.equals(BASELINE)).distinct().forEach(cols::add);
            boolean baseline = rs.stream().anyMatch(r -> r.policy().equals(BASELINE));
            boolean speedup = cols.contains(SPEEDUP_NUM) && cols.contains(SPEEDUP_DEN);
            Set<Integer> jobs = new LinkedHashSet<>();
            rs.forEach(r -> jobs.add(r.jobs()));
            Map<String, Row> at = new LinkedHashMap<>();
            rs.forEach(r -> at.put(r.policy() + "@" + r.jobs(), r));

            SeedTest test = SeedTest.of(t);
            out.printf("Test %d: %s.%n", t, test.description());
            out.printf("Each job writes its own region sequentially (sizes under Runs), %s;%n",
                    iodepth == 1 ? "one sync request in flight" : iodepth + " async requests in flight");
            out.printf("the file is rebuilt before every run, so every block is written at most once; %d s per run. Metric: IOPS.%n",
                    durationS);
            List<String> head = new ArrayList<>(List.of("JOBS"));
            head.addAll(cols);
            if (speedup) {
                head.add("speedup");
            }
            if (baseline) {
                head.add(BASELINE);
            }
            List<List<String>> body = new ArrayList<>();
            for (int j : jobs) {
                List<String> line = new ArrayList<>(List.of(Integer.toString(j)));
                for (String c : cols) {
                    Row r = at.get(c + "@" + j);
                    line.add(r == null ? "-" : String.format(Locale.ROOT, "%,.0f", r.iops()));
                }
                if (speedup) {
                    Row a = at.get(SPEEDUP_NUM + "@" + j);
                    Row b = at.get(SPEEDUP_DEN + "@" + j);
                    line.add(a == null || b == null || b.iops() <= 0 ? "-" : String.format(Locale.ROOT, "%.2fx", a.iops() / b.iops()));
                }
                if (baseline) {
                    Row r = at.get(BASELINE + "@" + j);
                    line.add(r == null ? "-" : String.format(Locale.ROOT, "%,.0f", r.iops()));
                }
                body.add(line);
            }
            table(out, head, body);

            out.println("Latency p50/p99 (us):");
            List<String> lhead = new ArrayList<>(List.of("JOBS"));
            lhead.addAll(cols);
            if (baseline) {
                lhead.add(BASELINE);
            }
            List<List<String>> lbody = new ArrayList<>();
            for (int j : jobs) {
                List<String> line = new ArrayList<>(List.of(Integer.toString(j)));
                for (String c : lhead.subList(1, lhead.size())) {
                    Row r = at.get(c + "@" + j);
                    line.add(r == null ? "-" : String.format(Locale.ROOT, "%.0f/%.0f", r.p50us(), r.p99us()));
                }
                lbody.add(line);
            }
            table(out, lhead, lbody);

            out.println("Runs (wall: the measured run; layout: fallocate + layout writes + fiemap check):");
            List<String> rhead = List.of("JOBS", "policy", "IOPS", "wall_s", "layout_s", "region_MiB", "p50_us", "p99_us",
                    "errors", "eagain");
            List<List<String>> rbody = new ArrayList<>();
            for (Row r : rs) {
                rbody.add(List.of(Integer.toString(r.jobs()), r.policy(), String.format(Locale.ROOT, "%,.0f", r.iops()),
                        String.format(Locale.ROOT, "%.2f", r.wallS()), String.format(Locale.ROOT, "%.2f", r.layoutS()),
                        Long.toString(r.regionBytes() >> 20), String.format(Locale.ROOT, "%.0f", r.p50us()),
                        String.format(Locale.ROOT, "%.0f", r.p99us()), Long.toString(r.errors()), Long.toString(r.eagain())));
            }
            table(out, rhead, rbody);
            out.println();
        }
        out.flush();
    }

    /** Left-aligned first column, right-aligned others, with a dashed rule under the header like the seed. */
    static void table(PrintStream out, List<String> head, List<List<String>> body) {
        int[] w = new int[head.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = head.get(i).length();
            for (List<String> l : body) {
                w[i] = Math.max(w[i], l.get(i).length());
            }
        }
        StringBuilder sb = new StringBuilder();
        line(sb, head, w);
        List<String> rule = new ArrayList<>();
        for (int x : w) {
            rule.add("-".repeat(x));
        }
        line(sb, rule, w);
        for (List<String> l : body) {
            line(sb, l, w);
        }
        out.print(sb);
    }

    private static void line(StringBuilder sb, List<String> cells, int[] w) {
        for (int i = 0; i < cells.size(); i++) {
            String c = cells.get(i);
            if (i == 0) {
                sb.append(c).append(" ".repeat(w[i] - c.length()));
            } else {
                sb.append("  ").append(" ".repeat(w[i] - c.length())).append(c);
            }
        }
        sb.append('\n');
    }

    /** {@code {"results":[{"test":1,"policy":"...","jobs":N,"iops":X,"p50_us":X,"p99_us":X,"errors":N,"eagain":N}, ...]}} */
    public static String json(List<Row> rows) {
        StringBuilder sb = new StringBuilder("{\"results\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (i > 0) {
                sb.append(',');
            }
            sb.append("\n  {\"test\":").append(r.test())
                    .append(",\"policy\":").append(Json.str(r.policy()))
                    .append(",\"jobs\":").append(r.jobs())
                    .append(",\"iops\":").append(num(r.iops()))
                    .append(",\"p50_us\":").append(num(r.p50us()))
                    .append(",\"p99_us\":").append(num(r.p99us()))
                    .append(",\"errors\":").append(r.errors())
                    .append(",\"eagain\":").append(r.eagain())
                    .append('}');
        }
        return sb.append("\n]}\n").toString();
    }

    static String num(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return "0";
        }
        return String.format(Locale.ROOT, "%.1f", d);
    }

    public static void writeJson(Path file, List<Row> rows) throws IOException {
        Files.writeString(file, json(rows), StandardCharsets.UTF_8);
    }

    /** IOPS against jobs, one line per policy (and the baseline), one chart per test, side by side in one PNG. */
    public static void writePng(Path file, List<Row> rows) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Set<Integer> tests = new TreeSet<>();
        rows.forEach(r -> tests.add(r.test()));
        List<XYChart> charts = new ArrayList<>();
        for (int t : tests) {
            charts.add(chart(t, rows));
        }
        try (java.io.OutputStream os = Files.newOutputStream(file)) {
            BitmapEncoder.saveBitmap(charts, 1, charts.size(), os, BitmapEncoder.BitmapFormat.PNG);
        }
    }

    /**
     * One test's chart. The x axis has a tick and a label at every job count run: x is the job
     * count's rank among those run (so 1, 4, 16 sit equally spaced, as on a log axis) and a
     * formatter names each rank's count. xchart puts ticks exactly at the data values when they are
     * equally spaced and a formatter is set; a logarithmic axis would label decades only (1, 10).
     */
    static XYChart chart(int test, List<Row> rows) {
        XYChart chart = new XYChartBuilder().width(760).height(520).title("Test " + test + ": IOPS vs jobs")
                .xAxisTitle("jobs").yAxisTitle("IOPS").build();
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisDecimalPattern("#,###");
        List<Integer> jobs = rows.stream().filter(r -> r.test() == test).map(Row::jobs).distinct().sorted().toList();
        chart.setCustomXAxisTickLabelsFormatter(x -> {
            long rank = Math.round(x);
            return Math.abs(x - rank) < 1e-6 && rank >= 0 && rank < jobs.size() ? String.valueOf(jobs.get((int) rank)) : "";
        });
        List<String> series = rows.stream().filter(r -> r.test() == test).map(Row::policy).distinct().toList();
        for (String s : series) {
            List<Row> rs = rows.stream().filter(r -> r.test() == test && r.policy().equals(s)).toList();
            double[] x = rs.stream().mapToDouble(r -> jobs.indexOf(r.jobs())).toArray();
            double[] y = rs.stream().mapToDouble(Row::iops).toArray();
            chart.addSeries(s, x, y).setMarker(SeriesMarkers.CIRCLE);
        }
        return chart;
    }
}
