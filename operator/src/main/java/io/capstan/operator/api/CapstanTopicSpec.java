package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.LinkedHashMap;
import java.util.Map;

/** What a topic should be; the API server enforces every constraint written here. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CapstanTopicSpec {
    @Required
    @JsonPropertyDescription("The BrokerCluster in this namespace the topic belongs to.")
    public String cluster;

    @Pattern("^[a-zA-Z0-9._-]{1,249}$")
    @JsonPropertyDescription("The Kafka topic's name (Kafka allows upper case and '_', which object names do not); default: metadata.name.")
    public String topicName;

    @Required
    @Min(1)
    @Max(100000)
    @JsonPropertyDescription("Number of partitions. It can grow (records with a key may then go to another partition); Kafka cannot shrink it.")
    public Integer partitions;

    @Min(1)
    @Max(64)
    @JsonPropertyDescription("Replicas of each partition when the topic is created; default: the cluster's default.replication.factor."
            + " Changing it later is refused (moving replicas is a rebalance, not a topic setting).")
    public Integer replicationFactor;

    @JsonPropertyDescription("Topic configs (Kafka's names: retention.ms, cleanup.policy, min.insync.replicas, ...), applied with"
            + " IncrementalAlterConfigs; a config removed from here goes back to the cluster's default.")
    public Map<String, String> config = new LinkedHashMap<>();

    @Pattern("^(Report|Revert)$")
    @Default("Report")
    @JsonPropertyDescription("What to do about configs set on the topic through the Kafka API but not here: Report them in the"
            + " Drifted condition, or Revert them to the cluster's default.")
    public String onDrift = "Report";
}
