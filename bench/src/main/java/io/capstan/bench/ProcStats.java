package io.capstan.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Resource use of a process from /proc: CPU seconds, peak resident memory, bytes it caused to be written to storage, and
 * the part of its CPU seconds the JVM's JIT compiler threads used (what a fresh JVM spends compiling itself, which a
 * short run sees far more of than a broker that has been up for days).
 */
public record ProcStats(double cpuSeconds, long peakRssBytes, long writeBytes, double jitCpuSeconds) {
    private static final double TICKS_PER_SECOND = 100.0; // USER_HZ on Linux

    public static ProcStats of(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
            long hwm = 0;
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith("VmHWM:")) {
                    hwm = Long.parseLong(line.replaceAll("\\D", "")) * 1024;
                }
            }
            long written = 0;
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "io"))) {
                if (line.startsWith("write_bytes:")) {
                    written = Long.parseLong(line.substring("write_bytes:".length()).trim());
                }
            }
            return new ProcStats(cpu, hwm, written, jitCpuSeconds(pid));
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + ": " + e.getMessage(), e);
        }
    }

    public ProcStats minus(ProcStats earlier) {
        return new ProcStats(cpuSeconds - earlier.cpuSeconds, Math.max(peakRssBytes, earlier.peakRssBytes), writeBytes - earlier.writeBytes,
                jitCpuSeconds - earlier.jitCpuSeconds);
    }

    /**
     * CPU seconds of the threads HotSpot names "C1 CompilerThreadN" and "C2 CompilerThreadN" (their names cut to 15
     * characters in /proc). HotSpot starts and stops compiler threads as the queue of work changes
     * (UseDynamicNumberOfCompilerThreads): a stopped thread's seconds are missed, so this is a lower bound.
     */
    static double jitCpuSeconds(long pid) throws IOException {
        long ticks = 0;
        try (var tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : tasks.toList()) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue; // the thread ended meanwhile
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                    ticks += Long.parseLong(f[11]) + Long.parseLong(f[12]);
                }
            }
        }
        return ticks / TICKS_PER_SECOND;
    }
}
