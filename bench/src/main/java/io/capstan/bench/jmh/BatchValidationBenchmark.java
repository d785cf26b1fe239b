package io.capstan.bench.jmh;

import io.capstan.broker.log.BatchHeader;
import io.capstan.broker.log.BatchValidator;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The produce hot path before the log: CRC32C validation of a batch and stamping its offset and epoch in place. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class BatchValidationBenchmark {
    @Param({"16384", "65536"})
    int batchBytes;

    ByteBuffer batch;
    BatchValidator validator;
    BatchHeader header;
    long offset;

    @Setup
    public void setUp() {
        int records = batchBytes / 1024;
        SimpleRecord[] rs = new SimpleRecord[records];
        for (int i = 0; i < records; i++) {
            rs[i] = new SimpleRecord(System.currentTimeMillis(), null, new byte[1000]);
        }
        batch = MemoryRecords.withRecords(Compression.NONE, rs).buffer();
        validator = new BatchValidator(1 << 20);
        header = new BatchHeader();
    }

    @Benchmark
    public boolean validateAndStamp() {
        boolean ok = validator.validate(batch.duplicate()).ok();
        header.wrap(batch, 0).stamp(offset++, 0);
        return ok;
    }
}
