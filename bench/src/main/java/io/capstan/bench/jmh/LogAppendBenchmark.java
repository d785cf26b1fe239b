package io.capstan.bench.jmh;

import io.capstan.config.BrokerConfig;
import io.capstan.broker.log.AppendResult;
import io.capstan.broker.log.CommitListener;
import io.capstan.broker.log.CommitStats;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The log's append path, through the group committer into RocksDB: 64 batches of 16 KiB in flight, as many
 * producers would have. With flush policy "always" each round ends in a WAL fsync; "interval" shows the cost
 * without it. Also measures fetch assembly from the tail cache.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 3)
@Fork(1)
public class LogAppendBenchmark {
    static final int IN_FLIGHT = 64;

    @Param({"always", "interval"})
    String flushPolicy;

    Path dir;
    LogManager logs;
    Shard shard;
    byte[] template;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        dir = Files.createTempDirectory("capstan-jmh");
        logs = new LogManager(BrokerConfig.from(Map.of("data.dir", dir.toString(), "log.flush.policy", flushPolicy,
                "disk.min.free.bytes", "0")), CommitListener.NONE, CommitStats.NONE, io.capstan.broker.log.FatalErrorHandler.haltProcess());
        logs.createTopic("bench", 1, Map.of());
        shard = logs.catalog().shard(new TopicPartition("bench", 0));
        SimpleRecord[] rs = new SimpleRecord[16];
        for (int i = 0; i < rs.length; i++) {
            rs[i] = new SimpleRecord(System.currentTimeMillis(), null, new byte[1000]);
        }
        ByteBuffer b = MemoryRecords.withRecords(Compression.NONE, rs).buffer();
        template = new byte[b.remaining()];
        b.get(template);
        for (int i = 0; i < 4; i++) {
            appendBatches(); // something for fetchFromTail to read
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        logs.close();
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Benchmark
    @OperationsPerInvocation(IN_FLIGHT)
    public void appendBatches() throws InterruptedException {
        CountDownLatch done = new CountDownLatch(IN_FLIGHT);
        for (int i = 0; i < IN_FLIGHT; i++) {
            logs.append(shard, template.clone(), (AppendResult r) -> done.countDown());
        }
        done.await();
    }

    @Benchmark
    public int fetchFromTail() {
        List<ByteBuf> out = new ArrayList<>();
        long hw = shard.highWatermark();
        int got = logs.reader().read(shard, Math.max(0, hw - 16 * 64), 1 << 20, true, out);
        out.forEach(ByteBuf::release);
        return got;
    }
}
