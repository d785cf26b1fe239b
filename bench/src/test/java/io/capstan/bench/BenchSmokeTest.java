package io.capstan.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness end to end on tiny sizes: real Kafka and real Capstan processes, real perf tools, a real report. */
class BenchSmokeTest {
    @TempDir
    Path work;

    @Test
    void harnessRunsEveryBrokerAndWritesTheReport() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Summary summary = BenchMain.run(repo, 1, 0.0005, work);
        for (BrokerKind kind : BrokerKind.DEFAULT_SET) {
            assertThat(summary.spread(kind, Workloads.Metric.A_MB_S).median()).as(kind + " (a)").isPositive();
            assertThat(summary.spread(kind, Workloads.Metric.D_P99_MS)).as(kind + " (d)").isNotNull();
            assertThat(summary.spread(kind, Workloads.Metric.PEAK_RSS_MB).median()).as(kind + " RSS").isPositive();
        }
        assertThat(summary.spread(BrokerKind.CAPSTAN, Workloads.Metric.E_MB_S).median()).isPositive();
        String table = Report.markdownTable(summary);
        assertThat(table).contains("(a) 1 KiB, 1 shard, max rate").contains("×");
        Path png = work.resolve("chart.png");
        Report.chart(summary, png);
        assertThat(Files.size(png)).isGreaterThan(1000);
    }

    @Test
    void tlsComparisonRunsEachBrokerInTheClearAndOverSaslSsl() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Summary summary = BenchMain.run(repo, 1, 0.0005, work, BrokerKind.TLS_SET, true);
        for (BrokerKind kind : BrokerKind.TLS_SET) {
            assertThat(summary.spread(kind, Workloads.Metric.A_MB_S).median()).as(kind + " (a)").isPositive();
            assertThat(summary.spread(kind, Workloads.Metric.E_MB_S).median()).as(kind + " (e)").isPositive();
        }
        TlsReport.write(summary, work, 1, 0.0005);
        assertThat(Files.readString(work.resolve("benchmarks-tls-results.md")))
                .contains("Capstan over SASL_SSL").contains("Kafka over SASL_SSL").contains("×");
    }

    @Test
    void compactionComparisonMeasuresBothBrokers() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        java.util.List<CompactionBench.Result> results = CompactionBench.run(BrokerUnderTest.Classpaths.detect(repo), work, 1000, 3, 3000, 2,
                line -> { });
        assertThat(results).extracting(CompactionBench.Result::kind).containsExactly(BrokerKind.CAPSTAN, BrokerKind.KAFKA_DEFAULT);
        for (CompactionBench.Result r : results) {
            assertThat(r.compactedP99()).as(r.kind() + " compacted p99").isPositive().isGreaterThanOrEqualTo(r.compactedP50());
            assertThat(r.plainP99()).as(r.kind() + " delete-policy p99").isPositive();
            assertThat(r.peakBytes()).as(r.kind() + " data bytes sampled").isPositive();
        }
        CompactionBench.write(results, work, 1000, 3, 3000, 2);
        assertThat(Files.readString(work.resolve("benchmarks-compaction-results.md"))).contains("Capstan").contains("Kafka").contains("| 0 |");
    }

    @Test
    void transactionComparisonMeasuresBothBrokers() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        java.util.List<TransactionBench.Result> results = TransactionBench.run(BrokerUnderTest.Classpaths.detect(repo), work, 20, 6, line -> { });
        assertThat(results).extracting(TransactionBench.Result::kind).containsExactly(BrokerKind.CAPSTAN, BrokerKind.KAFKA_DEFAULT);
        for (TransactionBench.Result r : results) {
            assertThat(r.commitP99Ms()).as(r.kind() + " commit p99").isPositive().isGreaterThanOrEqualTo(r.commitP50Ms());
            assertThat(r.readRecordsPerSecond()).as(r.kind() + " read_committed rate (every record read)").isPositive();
        }
        TransactionBench.write(results, work, 20, 6);
        assertThat(Files.readString(work.resolve("benchmarks-transactions-results.md"))).contains("Capstan").contains("Kafka").contains("Capstan / Kafka");
    }
}
