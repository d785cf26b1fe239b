package io.capstan.operator.rebalance;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.resources.DesiredResources;
import io.capstan.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;

/** Each broker's Prometheus metrics text, by broker id. */
public interface TrafficSource {
    /** Throws IllegalStateException naming the broker that could not be read: a sample must cover every broker. */
    Map<Integer, String> scrape(BrokerCluster cluster);

    /** GET http://podIP:9644/metrics of each broker pod of the cluster (the endpoint Prometheus scrapes). */
    static TrafficSource fromPods(KubernetesClient client) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
        return cluster -> {
            Map<Integer, String> texts = new TreeMap<>();
            for (Pod pod : client.pods().inNamespace(cluster.getMetadata().getNamespace())
                    .withLabels(Labels.selector(cluster.getMetadata().getName())).list().getItems()) {
                String name = pod.getMetadata().getName();
                String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
                if (ip == null) {
                    throw new IllegalStateException("broker pod " + name + " has no IP yet; the rebalance measures again once it runs");
                }
                try {
                    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://" + ip + ":" + DesiredResources.ADMIN_PORT
                            + "/metrics")).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                    if (r.statusCode() != 200) {
                        throw new IllegalStateException("broker pod " + name + " answered " + r.statusCode() + " for /metrics");
                    }
                    texts.put(Labels.ordinal(name), r.body());
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read the metrics of broker pod " + name + ": " + e.getMessage(), e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted reading the metrics of " + name, e);
                }
            }
            if (texts.isEmpty()) {
                throw new IllegalStateException("BrokerCluster " + cluster.getMetadata().getName() + " has no broker pods");
            }
            return texts;
        };
    }
}
