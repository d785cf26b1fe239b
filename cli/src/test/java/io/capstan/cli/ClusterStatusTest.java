package io.capstan.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.cluster.metadata.BrokerRegistration;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `capstan cluster status` reads the metadata store a local cluster shares and names what needs attention. */
class ClusterStatusTest {
    @TempDir
    Path dir;

    @Test
    void showsBrokersLeadersInSyncReplicasAndProblems() throws Exception {
        long now = 1_000_000;
        String text;
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("metadata"), 60_000)) {
            store.create(BrokerRegistration.key(0), MetadataCodec.encode(new BrokerRegistration(0, "127.0.0.1", 9092, "", now + 2000)));
            store.create(BrokerRegistration.key(1), MetadataCodec.encode(new BrokerRegistration(1, "127.0.0.1", 9093, "zone-b", now - 1)));
            new io.capstan.cluster.metadata.ShardStore(store).create(List.of(new ShardState("t", 0, List.of(0, 1), 0, 3, List.of(0)),
                    new ShardState("t", 1, List.of(1, 0), -1, 4, List.of(1))));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ClusterCommand.Status.print(store, new PrintStream(out, true, StandardCharsets.UTF_8), now, broker -> broker.id() == 0
                    ? List.of(new io.capstan.cluster.metadata.ReplicaProgress("t", 0, 0, 3, 500, 480, java.util.Map.of(1, 420L)))
                    : List.of());
            text = out.toString(StandardCharsets.UTF_8);
        }
        assertThat(text).containsPattern("0\\s+127.0.0.1:9092\\s+-\\s+alive \\(lease 2000 ms\\)");
        assertThat(text).containsPattern("1\\s+127.0.0.1:9093\\s+zone-b\\s+down");
        assertThat(text).containsPattern("t-0\\s+0\\s+3\\s+0,1\\s+0\\s+80 records\\s+under-replicated");
        assertThat(text).containsPattern("t-1\\s+none\\s+4\\s+1,0\\s+1\\s+-\\s+OFFLINE");
        assertThat(text).contains("1 under-replicated, 1 offline");
        assertThat(text).as("registrations from before versions, no version finalized").contains("cluster version (capstan.version) 1\n");
    }

    @Test
    void aClusterVersionThatEveryBrokerCouldRaiseSaysHow() throws Exception {
        String text;
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("metadata"), 60_000)) {
            store.create(BrokerRegistration.key(0), MetadataCodec.encode(new BrokerRegistration(0, "127.0.0.1", 9092, "", 0).supportingUpTo(2)));
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ClusterCommand.Status.print(store, new PrintStream(out, true, StandardCharsets.UTF_8), 0, broker -> List.of());
            text = out.toString(StandardCharsets.UTF_8);
        }
        assertThat(text).contains("cluster version (capstan.version) 1; every broker supports 2: raise it with kafka-features.sh"
                + " --bootstrap-server <broker> upgrade --feature capstan.version=2 and restart the brokers");
    }

    @Test
    void aMissingClusterDirectorySaysHowToStartOne() {
        int exit = Capstan.commandLine().execute("cluster", "status", "--dir", dir.resolve("nothing").toString());
        assertThat(exit).isEqualTo(2);
    }
}
