package io.capstan.operator.api;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn.Type;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A load-based rebalance of one BrokerCluster: the operator measures each shard's traffic, proposes leadership
 * transfers and replica moves that even out the brokers' load, and carries the proposal out, throttled, once its id is
 * approved in the spec.
 */
@Group("capstan.io")
@Version("v1alpha1")
@Kind("CapstanRebalance")
@Plural("capstanrebalances")
@ShortNames("crb")
@AdditionalPrinterColumn(name = "Cluster", jsonPath = ".spec.cluster", type = Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.phase", type = Type.STRING)
@AdditionalPrinterColumn(name = "Proposal", jsonPath = ".status.proposal.id", type = Type.STRING)
@AdditionalPrinterColumn(name = "Moves", jsonPath = ".status.proposal.moveCount", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class CapstanRebalance extends CustomResource<CapstanRebalanceSpec, CapstanRebalanceStatus> implements Namespaced {
    @Override
    protected CapstanRebalanceStatus initStatus() {
        return new CapstanRebalanceStatus();
    }
}
