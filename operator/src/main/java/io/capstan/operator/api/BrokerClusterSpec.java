package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.model.annotation.SpecReplicas;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the user asks for. Field names follow docs/operations.md; every constraint here is enforced by the API server. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BrokerClusterSpec {
    @SpecReplicas
    @Required
    @Min(1)
    @Max(64)
    @Default("3")
    @JsonPropertyDescription("Number of brokers. Scaling in drains shards off the highest ordinals first.")
    public Integer replicas = 3;

    @Required
    @Pattern("^[0-9]+\\.[0-9]+\\.[0-9]+(-[0-9A-Za-z.-]+)?$")
    @JsonPropertyDescription("Capstan version, e.g. 0.1.0. Changing it starts a health-gated rolling upgrade.")
    public String version;

    @JsonPropertyDescription("Broker image; overrides the one derived from version.")
    public String image;

    @JsonPropertyDescription("Persistent volume of each broker.")
    public Storage storage = new Storage();

    @JsonPropertyDescription("CPU and memory of each broker container.")
    public ResourceRequirements resources;

    @JsonPropertyDescription("Broker settings (docs/configuration.md); unknown keys or invalid values are reported in the InvalidSpec condition.")
    public Map<String, String> config = new LinkedHashMap<>();

    @JsonPropertyDescription("Spread replicas across this node label (e.g. topology.kubernetes.io/zone).")
    public Rack rack;

    @JsonPropertyDescription("How version, image or config changes roll out.")
    public Rollout rollout = new Rollout();

    @JsonPropertyDescription("Stop reconciling this cluster (the annotation capstan.io/paused=true does the same).")
    public Boolean paused = false;

    public Metrics metrics = new Metrics();

    public PodTemplate podTemplate = new PodTemplate();

    @JsonPropertyDescription("Kafka listeners for clients. Absent: one plaintext listener on 9092 without authentication. Given:"
            + " exactly these, and the brokers replicate over a listener of their own on 9091 (mutual TLS with certificates from"
            + " the cluster CA the operator runs).")
    public List<ListenerSpec> listeners;

    @JsonPropertyDescription("Lifetimes of the certificates the operator issues (with spec.listeners).")
    public Certificates certificates;

    @JsonPropertyDescription("What the operator does about a broker whose node stopped reporting. Absent: nothing, as"
            + " Kubernetes (the pod stays on the lost node until it returns or someone deletes the pod). Given: after"
            + " nodeLoss.after, the pod is deleted without waiting for its kubelet and the StatefulSet starts it elsewhere.")
    public NodeLoss nodeLoss;

    @Default("auto")
    @Pattern("^(auto|[1-9][0-9]?)$")
    @JsonPropertyDescription("The cluster version the operator finalizes (the Kafka feature capstan.version; decision 0028)."
            + " Until it is raised, brokers write nothing the previous Capstan version cannot read, so an upgrade can be rolled"
            + " back; once raised it is never lowered. auto: raised to the newest level every broker supports once a rollout"
            + " has completed with every broker ready, then the brokers are restarted one at a time to use it. A number:"
            + " raised up to that level and no further (pin the current level while you may still roll an upgrade back).")
    public String clusterVersion = "auto";

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class NodeLoss {
        @Default("5m")
        @Pattern("^([0-9]+(s|m|h))+$")
        @JsonPropertyDescription("How long a node must have been not Ready before its broker is replaced (checked at least"
                + " every 30 s), e.g. 5m. Shorter risks replacing a broker behind a brief partition.")
        public String after = "5m";

        @Default("false")
        @JsonPropertyDescription("A broker whose volume is local to the lost node (a PersistentVolume pinned to it) gets a new,"
                + " empty volume and copies its shards back from the other replicas: its claim is deleted. Never while one of"
                + " its shards has no in-sync copy on a live broker.")
        public Boolean releaseLocalVolumes = false;
    }

    /** A listener clients connect to: its port, whether it speaks TLS, and how clients prove who they are. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "self.authentication != 'tls' || self.tls", message = "authentication tls needs tls: true")
    @ValidationRule(value = "self.authentication != 'oauth' || has(self.oauth)", message = "authentication oauth needs oauth.jwksEndpointUri")
    @ValidationRule(value = "self.type == 'nodeport' || !has(self.advertisedHost)", message = "advertisedHost is for type nodeport")
    @ValidationRule(value = "!(self.type in ['ingress', 'tlsroute']) || (self.tls && has(self.hosts))",
            message = "type ingress and tlsroute pass TLS through to the brokers: they need tls: true and hosts")
    @ValidationRule(value = "self.type in ['ingress', 'tlsroute'] || !has(self.hosts)", message = "hosts is for type ingress and tlsroute")
    @ValidationRule(value = "self.type == 'ingress' || !has(self.ingressClassName)", message = "ingressClassName is for type ingress")
    @ValidationRule(value = "(self.type == 'tlsroute') == has(self.gateway)", message = "type tlsroute needs gateway, and only it takes one")
    public static class ListenerSpec {
        @Required
        @Pattern("^[a-z][a-z0-9]{0,15}$")
        @JsonPropertyDescription("Listener name (lower case letters and digits); the Kafka listener is its upper-case form.")
        public String name;

        @Required
        @Min(1024)
        @Max(65535)
        @JsonPropertyDescription("Container port (not 9091 or 9644, which the brokers use for replication and the admin port).")
        public Integer port;

        @Default("internal")
        @Pattern("^(internal|nodeport|loadbalancer|ingress|tlsroute)$")
        @JsonPropertyDescription("internal: reached inside the cluster through the client Service and the pods' DNS names."
                + " nodeport: from outside too, through a NodePort Service per broker (<cluster>-<n>-<listener>) and one to"
                + " bootstrap from (<cluster>-<listener>-bootstrap); each broker advertises its node's address (or advertisedHost)"
                + " and its own node port. loadbalancer: through a LoadBalancer Service per broker and one to bootstrap from;"
                + " each broker advertises its load balancer's address. ingress: through an Ingress per broker and one to bootstrap"
                + " from, each a TLS passthrough by host name (SNI; the ingress-nginx annotation is set); tlsroute: the same through"
                + " Gateway API TLSRoutes attached to gateway. Each broker advertises its host name from hosts. status.listeners"
                + " gives the bootstrap address.")
        public String type = "internal";

        @JsonPropertyDescription("type nodeport only: the host name or address clients outside reach the nodes by (any node"
                + " forwards every node port). Default: the address of the node each broker runs on (its status.hostIP).")
        public String advertisedHost;

        @JsonPropertyDescription("type ingress and tlsroute: the host names clients connect to (each resolving to the ingress"
                + " controller or gateway); the brokers' certificate names them all.")
        public Hosts hosts;

        @JsonPropertyDescription("type ingress: the IngressClass of the ingress controller that passes TLS through (default: the"
                + " cluster's default class).")
        public String ingressClassName;

        @JsonPropertyDescription("type tlsroute: the Gateway (with a TLS listener in Passthrough mode) the routes attach to.")
        public GatewayRef gateway;

        @Default("false")
        @JsonPropertyDescription("Encrypt with TLS; the brokers' certificates are signed by the cluster CA (Secret <cluster>-cluster-ca-cert).")
        public Boolean tls = false;

        @Default("none")
        @Pattern("^(none|scram-sha-512|tls|oauth)$")
        @JsonPropertyDescription("none, scram-sha-512 (SASL SCRAM), tls (a client certificate from the clients CA) or oauth (OAUTHBEARER).")
        public String authentication = "none";

        public OAuth oauth;
    }

    /** The host names of an ingress or tlsroute listener. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Hosts {
        @Required
        @Pattern("^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$")
        @JsonPropertyDescription("The host name clients bootstrap from, e.g. kafka.example.com.")
        public String bootstrap;

        @Required
        @Pattern("^[a-z0-9.-]{0,240}[{]id[}][a-z0-9.-]{0,240}$") // a regular expression, not a CEL rule: cheaper for the API server
        @JsonPropertyDescription("Each broker's host name, {id} standing for its id (once), e.g. broker-{id}.kafka.example.com.")
        public String broker;

        @JsonPropertyDescription("A host name per broker id that replaces the template's, e.g. {\"0\": \"b0.example.com\"}.")
        public java.util.Map<String, String> overrides;

        @Default("443")
        @Min(1)
        @Max(65535)
        @JsonPropertyDescription("The port the ingress controller or gateway serves TLS on, which clients connect to.")
        public Integer port = 443;

        /** Broker {@code id}'s host name: its override, or the template with {id} filled in. */
        public String forBroker(int id) {
            String override = overrides == null ? null : overrides.get(Integer.toString(id));
            return override != null ? override : broker.replace("{id}", Integer.toString(id));
        }
    }

    /** The Gateway API Gateway a tlsroute listener's routes attach to. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class GatewayRef {
        @Required
        @JsonPropertyDescription("The Gateway's name.")
        public String name;

        @JsonPropertyDescription("The Gateway's namespace (default: the cluster's; another needs a ReferenceGrant there).")
        public String namespace;

        @JsonPropertyDescription("The Gateway listener to attach to (default: every listener that accepts TLSRoutes).")
        public String sectionName;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class OAuth {
        @Required
        @JsonPropertyDescription("Where the issuer's public keys (JWKS) are, an https:// URL.")
        public String jwksEndpointUri;

        @JsonPropertyDescription("The iss a token must carry (empty: not checked).")
        public String issuer;

        @JsonPropertyDescription("An audience a token's aud must name (empty: not checked).")
        public String audience;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Certificates {
        @Default("365d")
        @Pattern("^([0-9]+(d|h|m))+$")
        @JsonPropertyDescription("Lifetime of broker and user certificates, e.g. 365d or 12h.")
        public String validity = "365d";

        @Default("30d")
        @Pattern("^([0-9]+(d|h|m))+$")
        @JsonPropertyDescription("Renew a certificate (and a CA) this long before it expires.")
        public String renewBefore = "30d";

        @Default("1825d")
        @Pattern("^([0-9]+(d|h|m))+$")
        @JsonPropertyDescription("Lifetime of the cluster CA and the clients CA.")
        public String caValidity = "1825d";

        @JsonPropertyDescription("A Secret of yours (keys ca.crt and ca.key, PEM) holding the cluster CA, instead of one the operator"
                + " creates: it signs the broker certificates and is never rotated by the operator; replace its contents to rotate"
                + " (the CA it held stays trusted until it expires).")
        @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
        public String clusterCaSecret;

        @JsonPropertyDescription("The same for the clients CA, which signs users' certificates.")
        @Pattern("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
        public String clientsCaSecret;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Storage {
        @Pattern("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")
        @Default("10Gi")
        @JsonPropertyDescription("Size of each broker's volume, a Kubernetes quantity such as 20Gi.")
        public String size = "10Gi";

        public String storageClassName;
    }

    public static class Rack {
        @Required
        public String topologyKey;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Rollout {
        public Canary canary;

        @JsonPropertyDescription("Set to the step number or version to approve a paused canary step (GitOps-friendly).")
        public String approve;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Canary {
        public List<Step> steps = new ArrayList<>();
        public Analysis analysis = new Analysis();
    }

    /** Either update this many brokers, or pause (for a duration, or until approved when none is given). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "has(self.replicas) != has(self.pause)", message = "a canary step sets either replicas or pause, not both")
    public static class Step {
        @Min(1)
        public Integer replicas;
        public Pause pause;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Pause {
        @Pattern("^([0-9]+(s|m|h))+$")
        @JsonPropertyDescription("e.g. 10m; empty waits for spec.rollout.approve.")
        public String duration;
    }

    public static class Analysis {
        @Min(0)
        public Integer maxUnderReplicatedShards = 0;
        @Min(1)
        public Integer failureThreshold = 3;
        @Pattern("^([0-9]+(s|m|h))+$")
        @JsonPropertyDescription("Time between analysis checks, e.g. 10s (the default); failureThreshold failed checks in a row roll back.")
        public String interval = "10s";
    }

    public static class Metrics {
        @JsonPropertyDescription("Create a Prometheus Operator ServiceMonitor (when its CRD is installed).")
        public Boolean serviceMonitor = false;

        @JsonPropertyDescription("Labels of the namespaces whose pods may reach the brokers' admin port (9644: /metrics, health) through"
                + " the cluster's NetworkPolicy, e.g. {kubernetes.io/metadata.name: monitoring}; empty: only the brokers and the operator.")
        public Map<String, String> scrapeNamespaceLabels = new LinkedHashMap<>();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class PodTemplate {
        public TemplateMetadata metadata = new TemplateMetadata();
        public Affinity affinity;
        public List<Toleration> tolerations = new ArrayList<>();
        public Map<String, String> nodeSelector = new LinkedHashMap<>();
        public String priorityClassName;
    }

    public static class TemplateMetadata {
        public Map<String, String> labels = new LinkedHashMap<>();
        public Map<String, String> annotations = new LinkedHashMap<>();
    }
}
