package io.capstan.operator.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** How to rebalance a cluster, and whether its proposal is approved; the API server enforces every constraint here. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CapstanRebalanceSpec {
    @Required
    @JsonPropertyDescription("The BrokerCluster in this namespace to rebalance.")
    public String cluster;

    @Pattern("^([0-9a-f]{12})?$")
    @JsonPropertyDescription("Set to status.proposal.id to carry that proposal out. A value naming another proposal changes"
            + " nothing and is reported in the Approved condition.")
    public String approvedProposal;

    @Min(5)
    @Max(3600)
    @Default("30")
    @JsonPropertyDescription("Seconds over which each shard's bytes in and out are measured before a proposal is made.")
    public Integer sampleSeconds = 30;

    @Min(1)
    @Max(1000)
    @Default("20")
    @JsonPropertyDescription("Most changes (leadership transfers and replica moves) in one proposal.")
    public Integer maxMoves = 20;

    @Min(0)
    @Max(100)
    @Default("10")
    @JsonPropertyDescription("The busiest broker may carry this much more than the mean (percent) before anything is moved.")
    public Integer tolerancePercent = 10;

    @Min(1024)
    @Default("10485760")
    @JsonPropertyDescription("Bytes a second each broker may spend copying moved replicas (Kafka's replication throttle,"
            + " KIP-73); replicas in sync are never held back, so producers are not either. Removed when the moves finish.")
    public Long throttleBytesPerSecond = 10_485_760L;
}
