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

/** A topic of one BrokerCluster, kept as its spec says through the Kafka API; deleting it deletes the topic. */
@Group("capstan.io")
@Version("v1alpha1")
@Kind("CapstanTopic")
@Plural("capstantopics")
@ShortNames("ct")
@AdditionalPrinterColumn(name = "Cluster", jsonPath = ".spec.cluster", type = Type.STRING)
@AdditionalPrinterColumn(name = "Topic", jsonPath = ".status.topicName", type = Type.STRING)
@AdditionalPrinterColumn(name = "Partitions", jsonPath = ".status.partitions", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Replicas", jsonPath = ".status.replicationFactor", type = Type.INTEGER)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = Type.DATE)
public class CapstanTopic extends CustomResource<CapstanTopicSpec, CapstanTopicStatus> implements Namespaced {
    @Override
    protected CapstanTopicStatus initStatus() {
        return new CapstanTopicStatus();
    }
}
