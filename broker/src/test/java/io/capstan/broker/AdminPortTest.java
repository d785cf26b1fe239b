package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.config.BrokerConfig;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
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
        Map<String, String> s = new HashMap<>();
        s.put("node.id", "0");
        s.put("listener.port", "0");
        s.put("admin.port", "0");
        s.put("data.dir", dir.resolve("broker").toString());
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
        try (LocalFileMetadataStore ignored = new LocalFileMetadataStore(dir.resolve("metadata"), 100);
             Broker b = clusterMember(Map.of("admin.token.file", token.toString()))) {
            assertThat(call(b, "GET", "/healthz", null).statusCode()).isEqualTo(200);
            assertThat(call(b, "GET", "/readyz", null).statusCode()).isEqualTo(200);
            assertThat(call(b, "GET", "/restart-safety", null).statusCode()).isIn(200, 409);
            assertThat(call(b, "GET", "/metrics", null).statusCode()).isEqualTo(200);

            HttpResponse<String> get = call(b, "GET", "/controlled-shutdown", "s3cret");
            assertThat(get.statusCode()).isEqualTo(405);
            assertThat(get.headers().firstValue("Allow")).hasValue("POST");
            assertThat(call(b, "POST", "/controlled-shutdown", null).statusCode()).isEqualTo(401);
            assertThat(call(b, "POST", "/controlled-shutdown", "guess").statusCode()).isEqualTo(401);
            assertThat(call(b, "POST", "/restart-safety", null).statusCode()).as("reads refuse POST").isEqualTo(405);
            assertThat(b.ready()).as("nothing above stopped the broker").isTrue();

            HttpResponse<String> ok = call(b, "POST", "/controlled-shutdown", "s3cret");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("handed");
            // the token file is read per call: rotating it needs no restart
            Files.writeString(token, "rotated");
            assertThat(call(b, "POST", "/controlled-shutdown", "s3cret").statusCode()).isEqualTo(401);
            assertThat(call(b, "POST", "/controlled-shutdown", "rotated").statusCode()).isEqualTo(200);
        }
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
