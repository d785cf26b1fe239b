package io.capstan.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Resource use of a process from /proc: CPU seconds, peak resident memory, bytes it caused to be written to storage. */
public record ProcStats(double cpuSeconds, long peakRssBytes, long writeBytes) {
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
            return new ProcStats(cpu, hwm, written);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + ": " + e.getMessage(), e);
        }
    }

    public ProcStats minus(ProcStats earlier) {
        return new ProcStats(cpuSeconds - earlier.cpuSeconds, Math.max(peakRssBytes, earlier.peakRssBytes), writeBytes - earlier.writeBytes);
    }
}
