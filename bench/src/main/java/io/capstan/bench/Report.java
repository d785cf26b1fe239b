package io.capstan.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/** Writes the results as a Markdown table (with medians, spreads and ratios) and a PNG chart. */
public final class Report {
    private static final BrokerKind[] KINDS = BrokerKind.DEFAULT_SET.toArray(BrokerKind[]::new);

    private Report() {}

    public static String markdownTable(Summary s) {
        // the tracing comparison's own figure has no place in the main table
        return markdownTable(s, java.util.Arrays.stream(Workloads.Metric.values()).filter(m -> m != Workloads.Metric.TRACE_EXPORTS).toList());
    }

    public static String markdownTable(Summary s, List<Workloads.Metric> metrics) {
        StringBuilder b = new StringBuilder();
        b.append("| metric | unit | Capstan median (min–max) | Kafka default median (min–max) | Kafka flush.messages=1 median (min–max) | Capstan ÷ Kafka default | Capstan ÷ Kafka fsync |\n");
        b.append("|---|---|---|---|---|---|---|\n");
        for (Workloads.Metric m : metrics) {
            b.append("| ").append(m.label).append(m.higherIsBetter ? " (higher is better)" : " (lower is better)")
                    .append(" | ").append(m.unit);
            for (BrokerKind k : KINDS) {
                b.append(" | ").append(cell(s.spread(k, m)));
            }
            b.append(" | ").append(ratio(s.ratio(m, BrokerKind.KAFKA_DEFAULT)))
                    .append(" | ").append(ratio(s.ratio(m, BrokerKind.KAFKA_FSYNC))).append(" |\n");
        }
        return b.toString();
    }

    /**
     * One column per broker kind, in {@code kinds}' order, then each Capstan kind's ratio to Kafka's default and the
     * second kind's to the first (an A/B of one Capstan setting).
     */
    public static String kindsTable(Summary s, List<BrokerKind> kinds, List<Workloads.Metric> metrics) {
        StringBuilder b = new StringBuilder("| metric | unit");
        kinds.forEach(k -> b.append(" | ").append(k.label()).append(" median (min–max)"));
        List<BrokerKind> capstans = kinds.stream().filter(BrokerKind::capstan).toList();
        capstans.forEach(k -> b.append(" | ").append(k.label()).append(" ÷ Kafka default"));
        b.append(" | ").append(kinds.get(1).label()).append(" ÷ ").append(kinds.get(0).label()).append(" |\n|---|---");
        for (int i = 0; i < kinds.size() + capstans.size() + 1; i++) {
            b.append("|---");
        }
        b.append("|\n");
        for (Workloads.Metric m : metrics) {
            b.append("| ").append(m.label).append(m.higherIsBetter ? " (higher is better)" : " (lower is better)").append(" | ").append(m.unit);
            kinds.forEach(k -> b.append(" | ").append(cell(s.spread(k, m))));
            capstans.forEach(k -> b.append(" | ").append(ratio(s.ratio(m, k, BrokerKind.KAFKA_DEFAULT))));
            b.append(" | ").append(ratio(s.ratio(m, kinds.get(1), kinds.get(0)))).append(" |\n");
        }
        return b.toString();
    }

    static String cell(Summary.Spread sp) {
        if (sp == null) {
            return "not run";
        }
        return fmt(sp.median()) + " (" + fmt(sp.min()) + "–" + fmt(sp.max()) + ")";
    }

    static String ratio(double r) {
        return Double.isNaN(r) ? "–" : String.format(Locale.ROOT, "%.2f×", r);
    }

    static String fmt(double v) {
        if (v >= 1000) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        return String.format(Locale.ROOT, "%.2f", v);
    }

    /** Two panels: throughput (a, b, e in MB/s) and latency at 20k records/s (p50, p99, p99.9). */
    public static void chart(Summary s, Path png) throws IOException {
        int w = 1100;
        int h = 460;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        Color[] colors = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0xd62728)};
        panel(g, s, List.of(Workloads.Metric.A_MB_S, Workloads.Metric.B_MB_S, Workloads.Metric.E_MB_S),
                new String[] {"(a) 1 shard", "(b) 8 shards", "(e) catch-up"}, "Throughput, MB/s (median; higher is better)", 40, colors);
        panel(g, s, List.of(Workloads.Metric.D_P50_MS, Workloads.Metric.D_P99_MS, Workloads.Metric.D_P999_MS),
                new String[] {"p50", "p99", "p99.9"}, "Ack latency at 20k records/s, ms (lower is better)", 580, colors);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        for (int i = 0; i < KINDS.length; i++) {
            g.setColor(colors[i]);
            g.fillRect(40 + i * 330, h - 30, 14, 14);
            g.setColor(Color.BLACK);
            g.drawString(KINDS[i].label(), 60 + i * 330, h - 18);
        }
        g.dispose();
        Files.createDirectories(png.getParent());
        ImageIO.write(img, "png", png.toFile());
    }

    private static void panel(Graphics2D g, Summary s, List<Workloads.Metric> metrics, String[] names, String title, int x0, Color[] colors) {
        int top = 50;
        int height = 320;
        int width = 480;
        double max = 0;
        for (Workloads.Metric m : metrics) {
            for (BrokerKind k : KINDS) {
                Summary.Spread sp = s.spread(k, m);
                if (sp != null) {
                    max = Math.max(max, sp.max());
                }
            }
        }
        max = max <= 0 ? 1 : max * 1.1;
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.drawString(title, x0, 30);
        g.setStroke(new BasicStroke(1));
        g.drawLine(x0, top + height, x0 + width, top + height);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int groupWidth = width / metrics.size();
        int bar = (groupWidth - 30) / KINDS.length;
        for (int i = 0; i < metrics.size(); i++) {
            int gx = x0 + i * groupWidth + 15;
            for (int k = 0; k < KINDS.length; k++) {
                Summary.Spread sp = s.spread(KINDS[k], metrics.get(i));
                if (sp == null) {
                    continue;
                }
                int bh = (int) (height * sp.median() / max);
                int bx = gx + k * bar;
                g.setColor(colors[k]);
                g.fillRect(bx, top + height - bh, bar - 4, bh);
                g.setColor(Color.BLACK);
                int yMin = top + height - (int) (height * sp.min() / max);
                int yMax = top + height - (int) (height * sp.max() / max);
                g.drawLine(bx + bar / 2 - 2, yMin, bx + bar / 2 - 2, yMax);
                g.drawString(fmt(sp.median()), bx, top + height - bh - 4);
            }
            g.setColor(Color.BLACK);
            g.drawString(names[i], gx + groupWidth / 2 - 40, top + height + 16);
        }
    }
}
