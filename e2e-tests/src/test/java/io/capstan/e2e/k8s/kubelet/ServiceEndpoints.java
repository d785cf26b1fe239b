package io.capstan.e2e.k8s.kubelet;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * A Service's endpoints, found as the EndpointSlice controller would: its selector's pods with an IP, ready ones only
 * unless it publishes not-ready addresses, at the target port of the port asked for. Not from EndpointSlices
 * themselves: the API server refuses loopback endpoint addresses, and the pod runner's pods live on 127.0.x.y.
 */
final class ServiceEndpoints {
    /** One endpoint: the pod behind it and where to connect. */
    record Endpoint(String pod, InetSocketAddress address) {}

    private ServiceEndpoints() {}

    /** The endpoints of {@code service}'s port numbered {@code port}; none if the Service or the port is missing. */
    static List<Endpoint> of(KubernetesClient client, String namespace, String service, int port) {
        Service s = client.services().inNamespace(namespace).withName(service).get();
        if (s == null || s.getSpec().getSelector() == null || s.getSpec().getSelector().isEmpty()) {
            return List.of();
        }
        ServicePort servicePort = s.getSpec().getPorts().stream().filter(p -> p.getPort() == port).findFirst().orElse(null);
        if (servicePort == null) {
            return List.of();
        }
        int target = servicePort.getTargetPort() == null || servicePort.getTargetPort().getIntVal() == null
                ? servicePort.getPort() : servicePort.getTargetPort().getIntVal();
        boolean notReadyToo = Boolean.TRUE.equals(s.getSpec().getPublishNotReadyAddresses());
        List<Endpoint> out = new ArrayList<>();
        for (Pod pod : client.pods().inNamespace(namespace).withLabels(s.getSpec().getSelector()).list().getItems()) {
            String ip = pod.getStatus() == null ? null : pod.getStatus().getPodIP();
            if (ip == null || ip.isEmpty() || pod.getMetadata().getDeletionTimestamp() != null) {
                continue;
            }
            boolean ready = pod.getStatus().getConditions() != null && pod.getStatus().getConditions().stream()
                    .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
            if (ready || notReadyToo) {
                out.add(new Endpoint(pod.getMetadata().getName(), new InetSocketAddress(ip, target)));
            }
        }
        return out;
    }
}
