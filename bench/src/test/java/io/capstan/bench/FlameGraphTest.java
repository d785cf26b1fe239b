package io.capstan.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import javax.imageio.ImageIO;
import jdk.jfr.Recording;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FlameGraphTest {
    @TempDir
    Path dir;

    @Test
    void stacksMergeByFrameAndCountEverySample() {
        FlameGraph.Node root = new FlameGraph.Node("all");
        FlameGraph.add(root, List.of("thread a", "Main.run", "Log.append"));
        FlameGraph.add(root, List.of("thread a", "Main.run", "Log.sync"));
        FlameGraph.add(root, List.of("thread a", "Main.run", "Log.append"));
        assertThat(root.samples).isEqualTo(3);
        FlameGraph.Node run = root.children.get("thread a").children.get("Main.run");
        assertThat(run.samples).isEqualTo(3);
        assertThat(run.children.get("Log.append").samples).isEqualTo(2);
        assertThat(run.children.get("Log.sync").samples).isEqualTo(1);
        assertThat(root.depth()).isEqualTo(4);
    }

    @Test
    void perfScriptSamplesBecomeStacksRootFirstWithJavaNativeAndKernelFrames() throws Exception {
        Path script = dir.resolve("perf.txt");
        java.nio.file.Files.writeString(script, String.join("\n",
                "capstan-wal-syn 4242/4250 [001] 65249.761054:   2004008 cpu-clock: ",
                "\tffffffff8225295b ext4_sync_file+0xb ([kernel.kallsyms])",
                "\t7f0000000010 rocksdb::DBImpl::SyncWAL+0x20 (/tmp/librocksdbjni.so)",
                "\t7f0000000020 Lio/capstan/broker/log/GroupCommitAppender;::syncAndPublish+0x1f (/tmp/perf-4242.map)",
                "",
                "multiThreadIoEv 4242/4260 [000] 65249.763054:   2004008 cpu-clock: ",
                "\t7f0000000030 [unknown] (/usr/lib/libc.so.6)",
                "",
                ""));
        FlameGraph.Node root = FlameGraph.readPerfScript(script);
        assertThat(root.samples).isEqualTo(2);
        FlameGraph.Node wal = root.children.get("thread capstan-wal-syn");
        assertThat(wal.children.keySet()).containsExactly("GroupCommitAppender::syncAndPublish");
        assertThat(wal.children.get("GroupCommitAppender::syncAndPublish").children.get("rocksdb::DBImpl::SyncWAL").children)
                .containsOnlyKeys("ext4_sync_file");
        assertThat(root.children.get("thread multiThreadIoEv").children).containsOnlyKeys("[libc.so.6]");
    }

    @Test
    void threadsOfOnePoolShareAName() {
        assertThat(FlameGraph.threadGroup("capstan-replica-fetcher-2")).isEqualTo("capstan-replica-fetcher");
        assertThat(FlameGraph.threadGroup("multiThreadIoEventLoopGroup-3-1")).isEqualTo("multiThreadIoEventLoopGroup");
        assertThat(FlameGraph.threadGroup("capstan-wal-sync")).isEqualTo("capstan-wal-sync");
    }

    @Test
    void aRealRecordingOfThisJvmBecomesAnImage() throws Exception {
        Path jfr = dir.resolve("burn.jfr");
        try (Recording r = new Recording()) {
            r.enable("jdk.ExecutionSample").withPeriod(Duration.ofMillis(10));
            r.start();
            long deadline = System.nanoTime() + Duration.ofMillis(1500).toNanos();
            double sink = 0;
            while (System.nanoTime() < deadline) {
                sink += burn();
            }
            r.stop();
            r.dump(jfr);
            assertThat(sink).isNotNaN();
        }
        FlameGraph.Node root = FlameGraph.read(List.of(jfr));
        assertThat(root.samples).as("CPU samples in the recording").isPositive();
        Path png = dir.resolve("flame.png");
        FlameGraph.write(root, "test", png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(1800);
        assertThat(img.getHeight()).isGreaterThan(3 * 17);
    }

    private static double burn() {
        double x = 0;
        for (int i = 1; i < 100_000; i++) {
            x += Math.sqrt(i) / i;
        }
        return x;
    }
}
