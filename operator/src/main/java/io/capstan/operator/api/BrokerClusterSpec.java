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
