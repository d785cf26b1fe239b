package io.capstan.operator.resources;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.BrokerClusterSpec;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpecBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a BrokerCluster owns, as the API server should hold it. Pure: the same spec always renders the same
 * objects (so a second reconcile changes nothing), every object carries the cluster's labels and an owner reference
 * (so deleting the cluster deletes them).
 */
public final class DesiredResources {
    public static final int KAFKA_PORT = 9092;
    public static final int ADMIN_PORT = 9644;
    public static final String DATA_PATH = "/var/lib/capstan";
    /** Where the admin token Secret is mounted: POST /controlled-shutdown needs it, whether the listeners are secured or not. */
    public static final String ADMIN_TOKEN_PATH = "/etc/capstan-admin";
    public static final String CONFIG_HASH = "capstan.io/config-hash";
    public static final String DEFAULT_IMAGE_REPOSITORY = "capstan/broker";

    private DesiredResources() {}

    public static List<HasMetadata> all(BrokerCluster cluster) {
        return all(cluster, cluster.getSpec().replicas);
    }

    /** With the StatefulSet at {@code brokers} (during a scale-in, the old size until shards have drained). */
    public static List<HasMetadata> all(BrokerCluster cluster, int brokers) {
        BrokerClusterSpec.Storage storage = cluster.getSpec().storage;
        return all(cluster, brokers, storage == null ? "10Gi" : storage.size, storage == null ? null : storage.storageClassName);
    }

    /**
     * With the brokers' volumes claimed at {@code claimSize} of {@code claimClass}: once the StatefulSet exists, what it
     * was created with, since the API server refuses any change to its volumeClaimTemplates.
     */
    public static List<HasMetadata> all(BrokerCluster cluster, int brokers, String claimSize, String claimClass) {
        return all(cluster, brokers, claimSize, claimClass, List.of());
    }

    /**
     * With external listeners, their Services and the ConfigMap of each broker's external address as {@code services}
     * (the cluster's Services as observed) tell it: before the StatefulSet, whose pods mount that ConfigMap.
     */
    public static List<HasMetadata> all(BrokerCluster cluster, int brokers, String claimSize, String claimClass, List<Service> services) {
        List<HasMetadata> out = new ArrayList<>(List.of(serviceAccount(cluster), role(cluster), roleBinding(cluster), configMap(cluster),
                headlessService(cluster), clientService(cluster), podDisruptionBudget(cluster), networkPolicy(cluster)));
        if (!ExternalListeners.of(cluster).isEmpty()) {
            out.addAll(ExternalListeners.services(cluster, brokers));
            out.addAll(ExternalListeners.ingresses(cluster, brokers));
            out.add(ExternalListeners.addressesConfigMap(cluster, brokers, services));
        }
        out.add(statefulSet(cluster, brokers, claimSize, claimClass));
        return List.copyOf(out);
    }

    /** A Prometheus Operator ServiceMonitor scraping every broker's /metrics (only when asked for and its CRD exists). */
    public static io.fabric8.kubernetes.api.model.GenericKubernetesResource serviceMonitor(BrokerCluster c) {
        Map<String, Object> endpoint = new LinkedHashMap<>();
        endpoint.put("port", "admin");
        endpoint.put("path", "/metrics");
        endpoint.put("interval", "30s");
        Map<String, Object> spec = new LinkedHashMap<>();
        spec.put("selector", Map.of("matchLabels", Labels.all(c.getMetadata().getName())));
        spec.put("endpoints", List.of(endpoint));
        io.fabric8.kubernetes.api.model.GenericKubernetesResource monitor = new io.fabric8.kubernetes.api.model.GenericKubernetesResource();
        monitor.setApiVersion("monitoring.coreos.com/v1");
        monitor.setKind("ServiceMonitor");
        monitor.setMetadata(meta(c, c.getMetadata().getName()));
        monitor.setAdditionalProperty("spec", spec);
        return monitor;
    }

    public static String image(BrokerClusterSpec spec) {
        return spec.image != null && !spec.image.isBlank() ? spec.image : DEFAULT_IMAGE_REPOSITORY + ":" + spec.version;
    }

    /** Whether the cluster runs spec.listeners (with TLS between brokers), rather than the one plaintext listener. */
    public static boolean secured(BrokerCluster c) {
        return c.getSpec().listeners != null && !c.getSpec().listeners.isEmpty();
    }

    /** The ports clients use: each of spec.listeners, or the one plaintext listener. */
    static List<Integer> clientPorts(BrokerCluster c) {
        return secured(c) ? c.getSpec().listeners.stream().map(l -> l.port).toList() : List.of(KAFKA_PORT);
    }

    static String portName(BrokerCluster c, int port) {
        return secured(c) ? c.getSpec().listeners.stream().filter(l -> l.port == port).findFirst().orElseThrow().name : "kafka";
    }

    public static String headlessName(BrokerCluster c) { return c.getMetadata().getName() + "-brokers"; }
    public static String configName(BrokerCluster c) { return c.getMetadata().getName() + "-config"; }
    public static String accountName(BrokerCluster c) { return c.getMetadata().getName() + "-broker"; }

    static ObjectMeta meta(BrokerCluster c, String name) {
        return new ObjectMetaBuilder().withName(name).withNamespace(c.getMetadata().getNamespace())
                .withLabels(Labels.all(c.getMetadata().getName())).withOwnerReferences(owner(c)).build();
    }

    /** The owner reference that makes an object go when its cluster goes. */
    public static OwnerReference ownerOf(BrokerCluster c) {
        return owner(c);
    }

    static OwnerReference owner(BrokerCluster c) {
        return new OwnerReferenceBuilder().withApiVersion(c.getApiVersion()).withKind(c.getKind())
                .withName(c.getMetadata().getName()).withUid(c.getMetadata().getUid())
                .withController(true).withBlockOwnerDeletion(true).build();
    }

    /** The broker settings file: the user's settings plus what the operator sets for every broker. */
    public static String brokerProperties(BrokerCluster c) {
        Map<String, String> settings = new TreeMap<>(c.getSpec().config == null ? Map.of() : c.getSpec().config);
        settings.put("cluster.id", c.getMetadata().getNamespace() + "-" + c.getMetadata().getName());
        if (secured(c)) {
            settings.putAll(ListenerSettings.render(c));
        } else {
            settings.put("listener.host", "0.0.0.0");
            settings.put("listener.port", String.valueOf(KAFKA_PORT));
        }
        settings.put("admin.port", String.valueOf(ADMIN_PORT));
        settings.put("admin.token.file", ADMIN_TOKEN_PATH + "/" + ClusterSecrets.ADMIN_TOKEN_KEY);
        settings.put("data.dir", DATA_PATH + "/data");
        settings.put("metadata.store", "kubernetes");
        settings.put("metadata.name", c.getMetadata().getName());
        settings.put("metadata.kubernetes.kind", io.capstan.operator.shards.MetadataKind.of(c));
        if (c.getSpec().rack != null) {
            settings.put("broker.rack.node.label", c.getSpec().rack.topologyKey);
        }
        StringBuilder b = new StringBuilder("# rendered by the capstan operator from BrokerCluster ")
                .append(c.getMetadata().getName()).append("; edit the BrokerCluster, not this file\n");
        settings.forEach((k, v) -> b.append(k).append('=').append(v).append('\n'));
        return b.toString();
    }

    public static ConfigMap configMap(BrokerCluster c) {
        return new ConfigMapBuilder().withMetadata(meta(c, configName(c)))
                .withData(Map.of("broker.properties", brokerProperties(c))).build();
    }

    public static ServiceAccount serviceAccount(BrokerCluster c) {
        return new ServiceAccountBuilder().withMetadata(meta(c, accountName(c))).build();
    }

    /**
     * Least privilege for the brokers: their metadata store's objects in their own namespace, nothing else (MetadataEntry
     * resources; ConfigMaps for clusters created before those existed).
     */
    public static Role role(BrokerCluster c) {
        boolean entries = io.capstan.operator.shards.MetadataKind.METADATA_ENTRY.equals(io.capstan.operator.shards.MetadataKind.of(c));
        return new RoleBuilder().withMetadata(meta(c, accountName(c)))
                .addNewRule().withApiGroups(entries ? "capstan.io" : "").withResources(entries ? "metadataentries" : "configmaps")
                .withVerbs("get", "list", "watch", "create", "update", "delete").endRule().build();
    }

    /** The ClusterRole shipped with the chart that lets brokers read node labels (their rack); nothing else. */
    public static final String NODE_READER_ROLE = "capstan-broker-node-reader";

    /**
     * Brokers read their node's topology label to learn their rack, and nodes are cluster-scoped, so this one binding is
     * cluster-scoped too. It cannot carry an owner reference to a namespaced BrokerCluster: the operator deletes it.
     */
    public static io.fabric8.kubernetes.api.model.rbac.ClusterRoleBinding nodeReaderBinding(BrokerCluster c) {
        return new io.fabric8.kubernetes.api.model.rbac.ClusterRoleBindingBuilder().withNewMetadata()
                .withName(nodeReaderBindingName(c)).withLabels(Labels.all(c.getMetadata().getName())).endMetadata()
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("ClusterRole").withName(NODE_READER_ROLE).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(accountName(c)).withNamespace(c.getMetadata().getNamespace()).endSubject()
                .build();
    }

    public static String nodeReaderBindingName(BrokerCluster c) {
        return "capstan-broker-nodes-" + c.getMetadata().getNamespace() + "-" + c.getMetadata().getName();
    }

    public static RoleBinding roleBinding(BrokerCluster c) {
        return new RoleBindingBuilder().withMetadata(meta(c, accountName(c)))
                .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(accountName(c)).endRoleRef()
                .addNewSubject().withKind("ServiceAccount").withName(accountName(c)).withNamespace(c.getMetadata().getNamespace()).endSubject()
                .build();
    }

    /** Stable per-pod DNS names (broker-N.<cluster>-brokers), published before readiness so brokers find each other. */
    public static Service headlessService(BrokerCluster c) {
        List<io.fabric8.kubernetes.api.model.ServicePort> ports = new ArrayList<>(servicePorts(c));
        if (secured(c)) {
            ports.add(servicePort(ListenerSettings.REPLICATION_NAME, ListenerSettings.REPLICATION_PORT));
        }
        ports.add(servicePort("admin", ADMIN_PORT));
        return new ServiceBuilder().withMetadata(meta(c, headlessName(c))).withNewSpec()
                .withClusterIP("None").withPublishNotReadyAddresses(true).withSelector(Labels.selector(c.getMetadata().getName()))
                .withPorts(ports).endSpec().build();
    }

    /** What applications bootstrap from: the Kafka port only (the admin port is for the operator and monitoring). */
    public static Service clientService(BrokerCluster c) {
        return new ServiceBuilder().withMetadata(meta(c, c.getMetadata().getName())).withNewSpec()
                .withSelector(Labels.selector(c.getMetadata().getName())).withPorts(servicePorts(c))
                .endSpec().build();
    }

    private static List<io.fabric8.kubernetes.api.model.ServicePort> servicePorts(BrokerCluster c) {
        return clientPorts(c).stream().map(p -> servicePort(portName(c, p), p)).toList();
    }

    private static io.fabric8.kubernetes.api.model.ServicePort servicePort(String name, int port) {
        return new io.fabric8.kubernetes.api.model.ServicePortBuilder().withName(name).withPort(port).withTargetPort(new IntOrString(port)).build();
    }

    /** The label of the operator's pods (the chart's selector label). */
    public static final Map<String, String> OPERATOR_POD_LABELS = Map.of("app.kubernetes.io/name", "capstan-operator");

    /**
     * Who may reach the brokers: anyone the Kafka port (clients, and the brokers replicating: they share the one
     * listener until spec.listeners separates them); the admin port only the cluster's own brokers, the operator's
     * pods (in whatever namespace it runs) and the namespaces spec.metrics.scrapeNamespaceLabels names. Enforced by
     * the cluster's network plugin, where it has one.
     */
    public static io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy networkPolicy(BrokerCluster c) {
        String name = c.getMetadata().getName();
        List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer> admin = new ArrayList<>();
        admin.add(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder()
                .withNewPodSelector().withMatchLabels(Labels.selector(name)).endPodSelector().build());
        admin.add(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder()
                .withNewNamespaceSelector().endNamespaceSelector()
                .withNewPodSelector().withMatchLabels(OPERATOR_POD_LABELS).endPodSelector().build());
        Map<String, String> scrapers = c.getSpec().metrics == null ? Map.of() : c.getSpec().metrics.scrapeNamespaceLabels;
        if (scrapers != null && !scrapers.isEmpty()) {
            admin.add(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeerBuilder()
                    .withNewNamespaceSelector().withMatchLabels(new TreeMap<>(scrapers)).endNamespaceSelector().build());
        }
        List<io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRule> rules = new ArrayList<>();
        rules.add(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder()
                .withPorts(clientPorts(c).stream().map(p -> new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPortBuilder()
                        .withProtocol("TCP").withPort(new IntOrString(p)).build()).toList()).build());
        if (secured(c)) {
            // the replication listener: the cluster's brokers, and the operator (which manages users and ACLs over it)
            rules.add(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder()
                    .addNewPort().withProtocol("TCP").withPort(new IntOrString(ListenerSettings.REPLICATION_PORT)).endPort()
                    .withFrom(admin.subList(0, 2)).build());
        }
        rules.add(new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyIngressRuleBuilder()
                .addNewPort().withProtocol("TCP").withPort(new IntOrString(ADMIN_PORT)).endPort().withFrom(admin).build());
        return new io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder().withMetadata(meta(c, name)).withNewSpec()
                .withNewPodSelector().withMatchLabels(Labels.selector(name)).endPodSelector()
                .withPolicyTypes("Ingress").withIngress(rules)
                .endSpec().build();
    }

    /** The image's user (docker/broker.Dockerfile): brokers run as it, never as root. */
    public static final long BROKER_UID = 10001;

    /** Voluntary disruptions (node drains) take one broker at a time. */
    public static PodDisruptionBudget podDisruptionBudget(BrokerCluster c) {
        return new PodDisruptionBudgetBuilder().withMetadata(meta(c, c.getMetadata().getName())).withNewSpec()
                .withMaxUnavailable(new IntOrString(1))
                .withNewSelector().withMatchLabels(Labels.selector(c.getMetadata().getName())).endSelector()
                .endSpec().build();
    }

    /**
     * The brokers. Pods are replaced only by the operator (OnDelete), one at a time and only when the broker says it
     * is safe; the broker id is the pod's ordinal; SIGTERM (after the preStop hand-over) is a controlled shutdown.
     */
    public static StatefulSet statefulSet(BrokerCluster c) {
        return statefulSet(c, c.getSpec().replicas);
    }

    public static StatefulSet statefulSet(BrokerCluster c, int brokers) {
        BrokerClusterSpec.Storage storage = c.getSpec().storage;
        return statefulSet(c, brokers, storage == null ? "10Gi" : storage.size, storage == null ? null : storage.storageClassName);
    }

    public static StatefulSet statefulSet(BrokerCluster c, int brokers, String claimSize, String claimClass) {
        String name = c.getMetadata().getName();
        PersistentVolumeClaim data = new PersistentVolumeClaimBuilder().withNewMetadata().withName("data")
                .withLabels(Labels.selector(name)).endMetadata().withNewSpec()
                .withAccessModes("ReadWriteOnce").withStorageClassName(claimClass)
                .withNewResources().addToRequests("storage", new Quantity(claimSize)).endResources()
                .endSpec().build();
        PodTemplateSpec template = podTemplate(c);
        ObjectMeta meta = meta(c, name);
        meta.setAnnotations(Map.of(TEMPLATE_HASH, templateHash(template)));
        return new StatefulSetBuilder().withMetadata(meta).withNewSpec()
                .withReplicas(brokers).withServiceName(headlessName(c)).withPodManagementPolicy("Parallel")
                .withNewUpdateStrategy().withType("OnDelete").endUpdateStrategy()
                .withNewSelector().withMatchLabels(Labels.selector(name)).endSelector()
                .withTemplate(template).withVolumeClaimTemplates(data)
                .endSpec().build();
    }

    /**
     * On the StatefulSet: a digest of the pod template the operator rendered, so a pass can tell whether the
     * StatefulSet it observed already carries the current spec (a rollout is not complete before it does).
     */
    public static final String TEMPLATE_HASH = "capstan.io/template-hash";

    /** On the pod template: the cluster version the operator raised and restarted the brokers for (spec.clusterVersion). */
    public static final String CLUSTER_VERSION = "capstan.io/cluster-version";

    private static String templateHash(PodTemplateSpec template) {
        return sha256(io.fabric8.kubernetes.client.utils.Serialization.asJson(template));
    }

    static PodTemplateSpec podTemplate(BrokerCluster c) {
        BrokerClusterSpec spec = c.getSpec();
        String name = c.getMetadata().getName();
        BrokerClusterSpec.PodTemplate user = spec.podTemplate == null ? new BrokerClusterSpec.PodTemplate() : spec.podTemplate;
        Map<String, String> labels = new LinkedHashMap<>(user.metadata == null ? Map.of() : user.metadata.labels);
        labels.putAll(Labels.all(name));
        Map<String, String> annotations = new LinkedHashMap<>(user.metadata == null ? Map.of() : user.metadata.annotations);
        annotations.put(CONFIG_HASH, sha256(brokerProperties(c)));
        if (c.getStatus() != null && c.getStatus().clusterVersion != null && c.getStatus().clusterVersion.restartedFor != null) {
            // a cluster version the operator raised: the brokers use what it allows from their next start
            annotations.put(CLUSTER_VERSION, String.valueOf(c.getStatus().clusterVersion.restartedFor));
        }
        annotations.put("prometheus.io/scrape", "true");
        annotations.put("prometheus.io/port", String.valueOf(ADMIN_PORT));
        String advertised = "$(POD_NAME)." + headlessName(c) + ".$(POD_NAMESPACE).svc";
        String advertising = secured(c) ? "advertised.listeners=" + ListenerSettings.advertised(c, advertised) : "advertised.host=" + advertised;
        String start = ExternalListeners.waitForAddresses(c) + "exec /opt/capstan/bin/capstan broker --config /etc/capstan/broker.properties"
                + " --node-id \"${POD_NAME##*-}\" --set " + advertising + " --set metadata.namespace=\"${POD_NAMESPACE}\"";
        List<io.fabric8.kubernetes.api.model.ContainerPort> ports = new ArrayList<>();
        clientPorts(c).forEach(p -> ports.add(new io.fabric8.kubernetes.api.model.ContainerPortBuilder().withName(portName(c, p)).withContainerPort(p).build()));
        if (secured(c)) {
            ports.add(new io.fabric8.kubernetes.api.model.ContainerPortBuilder().withName(ListenerSettings.REPLICATION_NAME)
                    .withContainerPort(ListenerSettings.REPLICATION_PORT).build());
        }
        ports.add(new io.fabric8.kubernetes.api.model.ContainerPortBuilder().withName("admin").withContainerPort(ADMIN_PORT).build());
        List<io.fabric8.kubernetes.api.model.VolumeMount> mounts = new ArrayList<>(List.of(
                new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("data").withMountPath(DATA_PATH).build(),
                new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("config").withMountPath("/etc/capstan").withReadOnly(true).build(),
                // the root filesystem is read-only: the JVM and RocksDB's native library need a writable /tmp
                new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build(),
                new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("admin-token").withMountPath(ADMIN_TOKEN_PATH).withReadOnly(true).build()));
        List<io.fabric8.kubernetes.api.model.Volume> volumes = new ArrayList<>(List.of(
                new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("config").withNewConfigMap().withName(configName(c)).endConfigMap().build(),
                new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("tmp").withNewEmptyDir().withSizeLimit(new Quantity("256Mi")).endEmptyDir().build(),
                new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("admin-token").withNewSecret()
                        .withSecretName(ClusterSecrets.adminToken(c)).withDefaultMode(0440).endSecret().build()));
        if (!ExternalListeners.of(c).isEmpty()) {
            mounts.add(new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("external-addresses")
                    .withMountPath(ExternalListeners.ADDRESSES_PATH).withReadOnly(true).build());
            volumes.add(new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("external-addresses").withNewConfigMap()
                    .withName(ExternalListeners.addressesConfigMapName(c)).endConfigMap().build());
        }
        if (secured(c)) {
            // the broker re-reads its key and trust bundles when the Secret volume changes: renewals need no restart
            mounts.add(new io.fabric8.kubernetes.api.model.VolumeMountBuilder().withName("tls").withMountPath(ListenerSettings.TLS_PATH)
                    .withReadOnly(true).build());
            volumes.add(new io.fabric8.kubernetes.api.model.VolumeBuilder().withName("tls").withNewSecret()
                    .withSecretName(ClusterSecrets.brokerCerts(c)).withDefaultMode(0440).endSecret().build());
        }
        return new PodTemplateSpecBuilder().withNewMetadata().withLabels(labels).withAnnotations(annotations).endMetadata()
                .withNewSpec()
                .withServiceAccountName(accountName(c))
                .withTerminationGracePeriodSeconds(120L)
                // Pod Security "restricted": not root, no privilege escalation, no capabilities, the runtime's seccomp
                // profile; fsGroup makes the data volume writable by the broker's user
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(BROKER_UID).withRunAsGroup(BROKER_UID)
                .withFsGroup(BROKER_UID).withFsGroupChangePolicy("OnRootMismatch")
                .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile().endSecurityContext()
                .withAffinity(user.affinity)
                .withTolerations(user.tolerations)
                .withNodeSelector(user.nodeSelector)
                .withPriorityClassName(user.priorityClassName)
                .withTopologySpreadConstraints(spec.rack == null ? List.of() : List.of(
                        new io.fabric8.kubernetes.api.model.TopologySpreadConstraintBuilder().withMaxSkew(1)
                                .withTopologyKey(spec.rack.topologyKey).withWhenUnsatisfiable("ScheduleAnyway")
                                .withNewLabelSelector().withMatchLabels(Labels.selector(name)).endLabelSelector().build()))
                .addNewContainer().withName("broker").withImage(image(spec))
                .withCommand("sh", "-c", start)
                .withEnv(env(!ExternalListeners.of(c).isEmpty()))
                .withPorts(ports)
                .withResources(spec.resources)
                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true).withRunAsNonRoot(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                .withNewReadinessProbe().withNewHttpGet().withPath("/readyz").withPort(new IntOrString(ADMIN_PORT)).endHttpGet()
                .withPeriodSeconds(5).withFailureThreshold(3).endReadinessProbe()
                .withNewLivenessProbe().withNewHttpGet().withPath("/healthz").withPort(new IntOrString(ADMIN_PORT)).endHttpGet()
                .withInitialDelaySeconds(10).withPeriodSeconds(10).withFailureThreshold(6).endLivenessProbe()
                // no preStop hook: SIGTERM makes the broker hand its shards over before it stops (controlled
                // shutdown), and the admin port's actions need POST with a token, which an httpGet hook cannot send
                .withVolumeMounts(mounts)
                .endContainer()
                .withVolumes(volumes)
                .endSpec().build();
    }

    private static List<EnvVar> env(boolean hostIp) {
        List<EnvVar> env = new ArrayList<>();
        if (hostIp) {
            // a node-port listener advertises the address of the node the broker runs on
            env.add(new EnvVarBuilder().withName("HOST_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.hostIP").endFieldRef().endValueFrom().build());
        }
        env.add(new EnvVarBuilder().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().build());
        env.add(new EnvVarBuilder().withName("POD_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().build());
        env.add(new EnvVarBuilder().withName("NODE_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("spec.nodeName").endFieldRef().endValueFrom().build());
        return env;
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8))).substring(0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
