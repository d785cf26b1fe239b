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
            assertThat(summary.spread(kind, Workloads.Metric.ALLOCATED_BYTES_PER_BYTE).median()).as(kind + " heap allocation").isPositive();
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
    void tracingComparisonRunsCapstanWithoutAndWithTracing() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        Summary summary = BenchMain.run(repo, 1, 0.0005, work, BrokerKind.TRACING_SET, Workloads::runTracing);
        for (BrokerKind kind : BrokerKind.TRACING_SET) {
            assertThat(summary.spread(kind, Workloads.Metric.A_MB_S).median()).as(kind + " (a)").isPositive();
            assertThat(summary.spread(kind, Workloads.Metric.C_RECORDS_S).median()).as(kind + " (c)").isPositive();
        }
        assertThat(summary.spread(BrokerKind.CAPSTAN, Workloads.Metric.TRACE_EXPORTS).median()).as("no tracing, no exports").isZero();
        assertThat(Report.kindsTable(summary, BrokerKind.TRACING_SET, java.util.List.of(Workloads.Metric.A_MB_S)))
                .contains("Capstan tracing 1 % of requests");
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

    @Test
    void clusterComparisonRunsThreeBrokersOfEachAndKillsALeader() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        ClusterBench bench = new ClusterBench(BrokerUnderTest.Classpaths.detect(repo), work, line -> { });
        bench.run(1, 0.001, 1);
        for (BrokerKind kind : ClusterBench.KINDS) {
            assertThat(bench.spread(kind, ClusterBench.Metric.F_MB_S).median()).as(kind + " (f)").isPositive();
            assertThat(bench.spread(kind, ClusterBench.Metric.F_ALLOCATED_PER_BYTE).median()).as(kind + " (f) heap allocation").isPositive();
            assertThat(bench.spread(kind, ClusterBench.Metric.F_CPU_S_PER_GIB).median()).as(kind + " (f) CPU").isPositive();
            assertThat(bench.spread(kind, ClusterBench.Metric.J_MAX_MS).median()).as(kind + " (j) one failover measured").isPositive();
            assertThat(bench.producerErrors.getOrDefault(kind, 0L)).as(kind + " errors of the idempotent acks=all producer").isZero();
        }
        bench.write(work, 1, 0.001, 1);
        assertThat(Files.readString(work.resolve("benchmarks-cluster-results.md"))).contains("(j) produce unavailability").contains("×");
    }

    @Test
    void latencyCurveHoldsEachFractionOfKafkasMaximumOnBothBrokers() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        LatencyCurve curve = new LatencyCurve(BrokerUnderTest.Classpaths.detect(repo), work, 0.002, line -> { });
        curve.run(LatencyCurve.Setup.SINGLE, 1);
        assertThat(curve.kafkaMaximum(LatencyCurve.Setup.SINGLE).median()).as("Kafka's calibrated maximum").isPositive();
        for (BrokerKind kind : LatencyCurve.KINDS) {
            for (double fraction : LatencyCurve.FRACTIONS) {
                assertThat(curve.spread(LatencyCurve.Setup.SINGLE, kind, fraction, PerfTools.ProducerResult::recordsPerSec).median())
                        .as(kind + " at " + fraction).isPositive();
                assertThat(curve.spread(LatencyCurve.Setup.SINGLE, kind, fraction, PerfTools.ProducerResult::p99Ms)).as(kind + " p99 at " + fraction).isNotNull();
            }
        }
        curve.write(work, 1);
        assertThat(Files.readString(work.resolve("benchmarks-curve-results.md"))).contains("90 %").contains("×");
    }

    @Test
    void restartAfterSigkillIsTimedOnBothBrokersWithEveryAcknowledgedRecordKept() throws Exception {
        Path repo = Path.of("..").toAbsolutePath().normalize();
        // 100 shards, not the workload's 1,000: this checks the harness, and creating 1,000 shards costs Kafka most of a minute
        RestartBench bench = new RestartBench(BrokerUnderTest.Classpaths.detect(repo), work, line -> { }, 100);
        bench.run(1, 0.0001); // the minimum: ten records per shard
        for (BrokerKind kind : RestartBench.KINDS) {
            assertThat(bench.spread(kind, RestartBench.Result::servingSeconds).median()).as(kind + " restart until every shard serves produce")
                    .isPositive().isGreaterThanOrEqualTo(bench.spread(kind, RestartBench.Result::listeningSeconds).median());
        }
        bench.write(work, 1, 0.0001);
        assertThat(Files.readString(work.resolve("benchmarks-restart-results.md"))).contains("every shard acknowledged").contains("×");
    }
}
