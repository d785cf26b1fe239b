package io.capstan.cluster.version;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.version.ClusterVersionChange.Raise;
import io.capstan.cluster.version.ClusterVersionChange.Refused;
import io.capstan.cluster.version.ClusterVersionChange.Unchanged;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterVersionTest {
    @TempDir
    Path dir;

    static BrokerRegistration broker(int id, int maxClusterVersion) {
        return new BrokerRegistration(id, "h", 9092, null, 1_000, 0, Map.of(), 0, 0, maxClusterVersion);
    }

    @Test
    void everyChangeBetweenEveryLevelIsDecidedByTheRules() {
        for (int current = ClusterVersion.FIRST; current <= ClusterVersion.LATEST; current++) {
            for (int requested = -1; requested <= ClusterVersion.LATEST + 1; requested++) {
                for (int slowest = 0; slowest <= ClusterVersion.LATEST + 1; slowest++) {
                    List<BrokerRegistration> brokers = List.of(broker(1, ClusterVersion.LATEST), broker(2, slowest));
                    ClusterVersionChange.Outcome outcome = ClusterVersionChange.decide(new ClusterVersion(current), requested, brokers);
                    String at = "from " + current + " to " + requested + " with a broker supporting " + slowest;
                    if (requested < ClusterVersion.FIRST || requested > ClusterVersion.LATEST || requested < current) {
                        assertThat(outcome).as(at).isInstanceOf(Refused.class);
                    } else if (requested == current) {
                        assertThat(outcome).as(at).isEqualTo(new Unchanged());
                    } else if (Math.max(ClusterVersion.FIRST, slowest) < requested) {
                        assertThat(outcome).as(at).isInstanceOf(Refused.class);
                        assertThat(((Refused) outcome).reason()).as(at).contains("broker 2 supports up to " + Math.max(1, slowest))
                                .doesNotContain("broker 1");
                    } else {
                        assertThat(outcome).as(at).isEqualTo(new Raise(new ClusterVersion(requested)));
                    }
                }
            }
        }
    }

    @Test
    void refusalsSayWhatToDo() {
        assertThat(((Refused) ClusterVersionChange.decide(new ClusterVersion(2), 1, List.of())).reason())
                .contains("finalized at 2 and cannot be lowered to 1");
        assertThat(((Refused) ClusterVersionChange.decide(new ClusterVersion(1), ClusterVersion.LATEST + 1, List.of())).reason())
                .contains("newer than this broker supports");
        assertThat(((Refused) ClusterVersionChange.decide(new ClusterVersion(1), 2, List.of(broker(3, 0)))).reason())
                .isEqualTo("cannot finalize capstan.version 2: broker 3 supports up to 1; finish upgrading those brokers (or remove"
                        + " them from the cluster) and try again");
    }

    @Test
    void aRegistrationFromABuildBeforeVersionsSupportsTheFirstOnly() {
        byte[] old = "{\"id\":4,\"host\":\"h\",\"port\":1,\"leaseExpiresAtMs\":5}".getBytes(StandardCharsets.UTF_8);
        BrokerRegistration decoded = MetadataCodec.decode(old, BrokerRegistration.class);
        assertThat(ClusterVersion.supportedBy(decoded)).isEqualTo(ClusterVersion.FIRST);
        assertThat(decoded.renewed(10, 20, 5).maxClusterVersion()).as("kept through renewals").isZero();
        assertThat(broker(1, 2).renewed(10, 20, 5).withLease(0).maxClusterVersion()).isEqualTo(2);
    }

    @Test
    void aNewClusterStartsAtTheLatestVersionAndWritesIt() {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 100)) {
            assertThat(ClusterVersion.atStart(store, true)).isEqualTo(new ClusterVersion(ClusterVersion.LATEST));
            assertThat(ClusterVersion.read(store)).isEqualTo(new ClusterVersion(ClusterVersion.LATEST));
            assertThat(ClusterVersion.atStart(store, false)).as("once written, every broker reads it").isEqualTo(new ClusterVersion(ClusterVersion.LATEST));
        }
    }

    @Test
    void aClusterFromBeforeVersionsStaysAtTheFirst() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("registered"), 100)) {
            store.create(BrokerRegistration.key(1), MetadataCodec.encode(broker(1, 0)));
            assertThat(ClusterVersion.atStart(store, true)).isEqualTo(new ClusterVersion(ClusterVersion.FIRST));
            assertThat(store.get(ClusterVersion.KEY)).as("nothing written: a later finalize decides").isEmpty();
        }
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("topics"), 100)) {
            store.create(TopicRecord.key("orders"), MetadataCodec.encode(new TopicRecord("orders", "id", 1, 1, Map.of())));
            assertThat(ClusterVersion.atStart(store, true)).isEqualTo(new ClusterVersion(ClusterVersion.FIRST));
        }
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("old-log"), 100)) {
            assertThat(ClusterVersion.atStart(store, false)).as("an empty store but a log written before").isEqualTo(new ClusterVersion(ClusterVersion.FIRST));
            assertThat(store.get(ClusterVersion.KEY)).isEmpty();
        }
    }

    @Test
    void finalizingWritesOnlyWhenEveryBrokerSupportsItAndNeverLowers() throws Exception {
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir, 100)) {
            store.create(BrokerRegistration.key(1), MetadataCodec.encode(broker(1, 2)));
            store.create(BrokerRegistration.key(2), MetadataCodec.encode(broker(2, 0)));
            ClusterVersionStore versions = new ClusterVersionStore(store);
            assertThat(versions.finalizeAt(2, false)).isInstanceOf(Refused.class);
            assertThat(ClusterVersion.read(store).level()).isEqualTo(1);

            store.compareAndSet(BrokerRegistration.key(2), store.get(BrokerRegistration.key(2)).orElseThrow().version(),
                    MetadataCodec.encode(broker(2, 2)));
            assertThat(versions.finalizeAt(2, true)).as("validate only").isEqualTo(new Raise(new ClusterVersion(2)));
            assertThat(store.get(ClusterVersion.KEY)).as("validate only writes nothing").isEmpty();
            assertThat(versions.finalizeAt(2, false)).isEqualTo(new Raise(new ClusterVersion(2)));
            assertThat(ClusterVersion.read(store).level()).isEqualTo(2);
            assertThat(versions.finalizeAt(2, false)).isEqualTo(new Unchanged());
            assertThat(versions.finalizeAt(1, false)).isInstanceOf(Refused.class);
            assertThat(ClusterVersion.read(store).level()).isEqualTo(2);
        }
    }
}
