package io.capstan.operator.rollout;

import io.capstan.operator.resources.DesiredResources;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** Asks a broker, on its admin port, whether it may be restarted now. */
public interface RestartSafetyProbe {
    RollingRestart.Safety check(Pod pod);

    /** GET http://podIP:9644/restart-safety: 200 safe, 409 unsafe with reasons, anything else unsafe. */
    static RestartSafetyProbe http() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        return pod -> {
            String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
            if (ip == null) {
                return new RollingRestart.Safety(false, "pod " + pod.getMetadata().getName() + " has no IP yet");
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + ip + ":" + DesiredResources.ADMIN_PORT
                        + "/restart-safety")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                return new RollingRestart.Safety(r.statusCode() == 200, r.body().trim());
            } catch (IOException e) {
                return new RollingRestart.Safety(false, "cannot ask " + pod.getMetadata().getName() + ": " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new RollingRestart.Safety(false, "interrupted");
            }
        };
    }
}
