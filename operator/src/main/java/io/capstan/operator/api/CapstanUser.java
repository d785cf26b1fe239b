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

/** A Kafka user of one BrokerCluster: how it authenticates and what its ACLs allow. Its name is the user name. */
@Group("capstan.io")
@Version("v1alpha1")
@Kind("CapstanUser")
@Plural("capstanusers")
@ShortNames("cu")
@AdditionalPrinterColumn(name = "Cluster", jsonPath = ".spec.cluster", type = Type.STRING)
@AdditionalPrinterColumn(name = "Authentication", jsonPath = ".spec.authentication.type", type = Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class CapstanUser extends CustomResource<CapstanUserSpec, CapstanUserStatus> implements Namespaced {
    @Override
    protected CapstanUserStatus initStatus() {
        return new CapstanUserStatus();
    }
}
