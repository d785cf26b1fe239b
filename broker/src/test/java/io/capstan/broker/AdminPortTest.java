package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.capstan.config.BrokerConfig;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import io.capstan.cluster.metadata.MetadataCodec;
import io.capstan.cluster.metadata.ShardState;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The admin port: reads open, the one action (controlled shutdown) only by POST with the token, and refused outright
 * on a secured broker without a token file.
 */
class AdminPortTest {
    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    private Broker clusterMember(Map<String, String> extra) {
        return clusterMember(0, extra);
    }

    private Broker clusterMember(int id, Map<String, String> extra) {
        Map<String, String> s = new HashMap<>();
        s.put("node.id", String.valueOf(id));
        s.put("replica.fetch.max.wait.ms", "100");
        s.put("listener.port", "0");
        s.put("admin.port", "0");
        s.put("data.dir", dir.resolve("broker-" + id).toString());
        s.put("metadata.dir", dir.resolve("metadata").toString());
        s.put("disk.min.free.bytes", "0");
        s.putAll(extra);
        if (extra.containsKey("listeners")) {
            s.remove("listener.port");
        }
        return new Broker(BrokerConfig.from(s), s);
    }

    private HttpResponse<String> call(Broker b, String method, String path, String token) throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + b.adminPort() + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (token != null) {
            r.header("Authorization", "Bearer " + token);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void actionsNeedPostAndTheTokenWhileReadsStayOpen() throws Exception {
        Path token = dir.resolve("admin-token");
        Files.writeString(token, "s3cret\n");
        Map<String, String> withToken = Map.of("admin.token.file", token.toString());
        try (LocalFileMetadataStore store = new LocalFileMetadataStore(dir.resolve("metadata"), 100);
             Broker b0 = clusterMember(0, withToken); Broker b1 = clusterMember(1, withToken)) {
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", b0.bootstrap()))) {
                admin.createTopics(List.of(new NewTopic("t", 1, (short) 2))).all().get();
            }
            // a controlled shutdown of the leader would hand the shard to its in-sync follower: that is what must not happen
            await().atMost(Duration.ofSeconds(30)).until(() -> shard(store).leader() >= 0 && shard(store).isr().size() == 2);
            int leaderId = shard(store).leader();
            Broker leader = leaderId == 0 ? b0 : b1;
            assertThat(call(leader, "GET", "/healthz", null).statusCode()).isEqualTo(200);
            assertThat(call(leader, "GET", "/readyz", null).statusCode()).isEqualTo(200);
            assertThat(call(leader, "GET", "/restart-safety", null).statusCode()).isIn(200, 409);
            assertThat(call(leader, "GET", "/metrics", null).statusCode()).isEqualTo(200);

            HttpResponse<String> get = call(leader, "GET", "/controlled-shutdown", "s3cret");
            assertThat(get.statusCode()).isEqualTo(405);
            assertThat(get.headers().firstValue("Allow")).hasValue("POST");
            assertThat(call(leader, "POST", "/controlled-shutdown", null).statusCode()).isEqualTo(401);
            assertThat(call(leader, "POST", "/controlled-shutdown", "guess").statusCode()).isEqualTo(401);
            assertThat(call(leader, "POST", "/restart-safety", null).statusCode()).as("reads refuse POST").isEqualTo(405);
            assertThat(shard(store).leader()).as("no refused call moved leadership").isEqualTo(leaderId);

            HttpResponse<String> ok = call(leader, "POST", "/controlled-shutdown", "s3cret");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("handed 1 shard(s)");
            assertThat(shard(store).leader()).as("the accepted call did").isEqualTo(1 - leaderId);
            // the token file is read per call: rotating it needs no restart
            Files.writeString(token, "rotated");
            assertThat(call(leader, "POST", "/controlled-shutdown", "s3cret").statusCode()).isEqualTo(401);
            assertThat(call(leader, "POST", "/controlled-shutdown", "rotated").statusCode()).isEqualTo(200);
        }
    }

    private static ShardState shard(LocalFileMetadataStore store) {
        return new io.capstan.cluster.metadata.ShardStore(store).get("t", 0).orElseThrow().state();
    }

    @Test
    void aSecuredBrokerWithoutATokenRefusesEveryAction() throws Exception {
        try (LocalFileMetadataStore ignored = new LocalFileMetadataStore(dir.resolve("metadata"), 100);
             Broker b = clusterMember(Map.of("listeners", "SASL_PLAINTEXT://127.0.0.1:0",
                     "inter.broker.sasl.username", "broker", "inter.broker.sasl.password", "broker-secret"))) {
            HttpResponse<String> r = call(b, "POST", "/controlled-shutdown", "anything");
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("admin.token.file");
        }
    }
}
