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

/** A Capstan cluster: the user's wish (spec) and what the operator has made of it (status). */
@Group("capstan.io")
@Version("v1alpha1")
@Kind("BrokerCluster")
@Plural("brokerclusters")
@ShortNames("bc")
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.readyReplicas", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Replicas", jsonPath = ".spec.replicas", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Version", jsonPath = ".spec.version", type = Type.STRING)
@AdditionalPrinterColumn(name = "Phase", jsonPath = ".status.rollout.phase", type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class BrokerCluster extends CustomResource<BrokerClusterSpec, BrokerClusterStatus> implements Namespaced {
    @Override
    protected BrokerClusterStatus initStatus() {
        return new BrokerClusterStatus();
    }
}
