package io.capstan.bench;

import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * A flame graph PNG from JFR recordings' CPU samples ({@code jdk.ExecutionSample}): every sampled stack, root at the
 * bottom, each frame as wide as the share of samples it was on; frames merged by method, the thread name as the
 * lowest frame so the broker's threads read apart. JFR samples threads running Java code: time in native code (RocksDB,
 * system calls) and the kernel is not in it. Usage:
 * {@code FlameGraph [--between FROM_EPOCH_MS TO_EPOCH_MS] OUT.png TITLE RECORDING.jfr...}, or from perf:
 * {@code FlameGraph --perf-script PERF_SCRIPT.txt OUT.png TITLE}.
 */
public final class FlameGraph {
    private static final int WIDTH = 1800;
    private static final int ROW = 17;
    /** Frames narrower than this many pixels are left out (with their callees): they cannot be read anyway. */
    private static final double MIN_PX = 0.6;

    /** One frame in the merged call tree: its samples and its callees by name. */
    static final class Node {
        final String name;
        long samples;
        final Map<String, Node> children = new LinkedHashMap<>();

        Node(String name) {
            this.name = name;
        }

        Node child(String name) {
            return children.computeIfAbsent(name, Node::new);
        }

        int depth() {
            int d = 0;
            for (Node c : children.values()) {
                d = Math.max(d, c.depth());
            }
            return d + 1;
        }
    }

    private FlameGraph() {}

    /** Adds one stack, outermost frame first. */
    static void add(Node root, List<String> stack) {
        root.samples++;
        Node n = root;
        for (String frame : stack) {
            n = n.child(frame);
            n.samples++;
        }
    }

    static Node read(List<Path> recordings) throws IOException {
        return read(recordings, java.time.Instant.MIN, java.time.Instant.MAX);
    }

    /** The samples taken between {@code from} and {@code to}: the load, not the start-up before it. */
    static Node read(List<Path> recordings, java.time.Instant from, java.time.Instant to) throws IOException {
        Node root = new Node("all");
        for (Path recording : recordings) {
            for (RecordedEvent e : RecordingFile.readAllEvents(recording)) {
                if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null
                        || e.getStartTime().isBefore(from) || e.getStartTime().isAfter(to)) {
                    continue;
                }
                RecordedStackTrace trace = e.getStackTrace();
                List<String> stack = new ArrayList<>();
                String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
                stack.add("thread " + threadGroup(thread));
                List<RecordedFrame> frames = trace.getFrames();
                for (int i = frames.size() - 1; i >= 0; i--) {
                    RecordedFrame f = frames.get(i);
                    String type = f.getMethod().getType().getName();
                    stack.add(type.substring(type.lastIndexOf('.') + 1) + "." + f.getMethod().getName());
                }
                add(root, stack);
            }
        }
        return root;
    }

    private static final java.util.regex.Pattern PERF_HEADER = java.util.regex.Pattern.compile("^(.*?)\\s+\\d+(?:/\\d+)?\\s+(?:\\[\\d+\\]\\s+)?[\\d.]+:");

    /**
     * Stacks from {@code perf script} text (perf record -g of the brokers, with the JVMs' perf maps for JIT code):
     * every on-CPU sample, Java, native and kernel frames alike, the thread's name (as the kernel keeps it, 15
     * characters) as the lowest frame.
     */
    static Node readPerfScript(Path script) throws IOException {
        Node root = new Node("all");
        List<String> lines = Files.readAllLines(script);
        String thread = null;
        List<String> leafFirst = new ArrayList<>();
        for (String line : lines) {
            if (line.isBlank()) {
                if (thread != null) {
                    List<String> stack = new ArrayList<>();
                    stack.add("thread " + threadGroup(thread));
                    for (int i = leafFirst.size() - 1; i >= 0; i--) {
                        stack.add(leafFirst.get(i));
                    }
                    add(root, stack);
                }
                thread = null;
                leafFirst.clear();
            } else if (!Character.isWhitespace(line.charAt(0))) {
                java.util.regex.Matcher m = PERF_HEADER.matcher(line);
                thread = m.find() ? m.group(1).trim() : line.trim();
            } else if (thread != null) {
                leafFirst.add(perfFrame(line.trim()));
            }
        }
        return root;
    }

    /** "7f12 Lio/capstan/broker/log/Shard;::publish+0x1f (/tmp/perf-1.map)" → "Shard::publish". */
    static String perfFrame(String line) {
        String rest = line.substring(line.indexOf(' ') + 1);
        int dso = rest.lastIndexOf(" (");
        String symbol = dso > 0 ? rest.substring(0, dso) : rest;
        String library = dso > 0 ? rest.substring(dso + 2, rest.length() - 1) : "";
        if (symbol.equals("[unknown]")) {
            return "[" + library.substring(library.lastIndexOf('/') + 1) + "]";
        }
        symbol = symbol.replaceAll("\\+0x[0-9a-f]+$", "");
        if (symbol.startsWith("L") && symbol.contains(";::")) {
            String type = symbol.substring(1, symbol.indexOf(";::"));
            symbol = type.substring(type.lastIndexOf('/') + 1) + "::" + symbol.substring(symbol.indexOf(";::") + 3);
        }
        return symbol;
    }

    /** Threads of one pool under one name: "capstan-replica-fetcher-2" and "-0" are one kind of work. */
    static String threadGroup(String name) {
        return name.replaceAll("([-#]\\d+)+$", "");
    }

    static void write(Node root, String title, Path png) throws IOException {
        write(root, title, png, "JFR samples of threads running Java code");
    }

    static void write(Node root, String title, Path png, String samplesAre) throws IOException {
        int depth = root.depth();
        int height = (depth + 3) * ROW;
        BufferedImage img = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, height);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        g.setColor(Color.BLACK);
        g.drawString(title + String.format(Locale.ROOT, " (%,d %s)", root.samples, samplesAre), 8, ROW);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        draw(g, root, 0, WIDTH, height - ROW, root.samples);
        g.dispose();
        Files.createDirectories(png.toAbsolutePath().getParent());
        ImageIO.write(img, "png", png.toFile());
    }

    private static void draw(Graphics2D g, Node node, double x, double width, int y, long total) {
        if (width < MIN_PX) {
            return;
        }
        g.setColor(colour(node.name));
        g.fillRect((int) x, y - ROW, Math.max(1, (int) width - 1), ROW - 1);
        FontMetrics fm = g.getFontMetrics();
        String label = String.format(Locale.ROOT, "%s %.1f%%", node.name, 100.0 * node.samples / total);
        if (fm.stringWidth("a...") < width - 4) {
            String shown = label;
            while (fm.stringWidth(shown) > width - 4 && shown.length() > 4) {
                shown = shown.substring(0, shown.length() - 4) + "...";
            }
            g.setColor(Color.BLACK);
            g.drawString(shown, (int) x + 2, y - 4);
        }
        double cx = x;
        List<Node> children = new ArrayList<>(node.children.values());
        children.sort(Comparator.comparing(n -> n.name));
        for (Node c : children) {
            double w = width * c.samples / node.samples;
            draw(g, c, cx, w, y - ROW, total);
            cx += w;
        }
    }

    /** Warm colours, stable per name, so one method has one colour in every graph. */
    private static Color colour(String name) {
        int h = name.hashCode();
        if (name.startsWith("thread ")) {
            return new Color(200, 200, 220);
        }
        return new Color(205 + Math.floorMod(h, 50), 90 + Math.floorMod(h >> 8, 110), 40 + Math.floorMod(h >> 16, 40));
    }

    public static void main(String[] args) throws IOException {
        java.time.Instant from = java.time.Instant.MIN;
        java.time.Instant to = java.time.Instant.MAX;
        int first = 0;
        if (args.length == 4 && args[0].equals("--perf-script")) {
            Node root = readPerfScript(Path.of(args[1]));
            write(root, args[3], Path.of(args[2]), "perf samples on CPU: Java, native and kernel");
            System.out.printf(Locale.ROOT, "wrote %s from %,d samples%n", args[2], root.samples);
            return;
        }
        if (args.length > 0 && args[0].equals("--between")) {
            from = java.time.Instant.ofEpochMilli(Long.parseLong(args[1]));
            to = java.time.Instant.ofEpochMilli(Long.parseLong(args[2]));
            first = 3;
        }
        if (args.length < first + 3) {
            System.err.println("usage: FlameGraph [--between FROM_EPOCH_MS TO_EPOCH_MS] OUT.png TITLE RECORDING.jfr...");
            System.exit(2);
        }
        List<Path> recordings = new ArrayList<>();
        for (int i = first + 2; i < args.length; i++) {
            recordings.add(Path.of(args[i]));
        }
        Node root = read(recordings, from, to);
        if (root.samples == 0) {
            System.err.println("no jdk.ExecutionSample events in " + recordings + ": record with settings=profile");
            System.exit(1);
        }
        write(root, args[first + 1], Path.of(args[first]));
        System.out.printf(Locale.ROOT, "wrote %s from %,d samples%n", args[first], root.samples);
    }
}
