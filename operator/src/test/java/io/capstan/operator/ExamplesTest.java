package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.api.CapstanUser;
import io.capstan.operator.spec.SpecValidator;
import io.capstan.operator.users.AclRules;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every example a user may apply parses, BrokerClusters pass the operator's validation, and CapstanUsers name a
 * cluster of the same file with listeners that authenticate, and ACLs that map to Kafka's; CapstanTopics and
 * CapstanRebalances name a cluster of the same file.
 */
class ExamplesTest {
    @Test
    void everyExampleIsAValidBrokerClusterAndItsUsersBelongToIt() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("..", "manifests", "examples"))) {
            for (Path file : files.sorted().toList()) {
                Set<String> clusters = new HashSet<>();
                int documents = 0;
                for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
                    if (doc.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
                        continue;
                    }
                    documents++;
                    if (doc.contains("kind: CapstanUser")) {
                        CapstanUser user = Serialization.unmarshal(doc, CapstanUser.class);
                        assertThat(clusters).as(file + ": " + user.getMetadata().getName() + " names a cluster defined before it")
                                .contains(user.getSpec().cluster);
                        assertThat(AclRules.bindings(user.getMetadata().getName(), user.getSpec().acls)).as(file.toString()).isNotEmpty();
                    } else if (doc.contains("kind: CapstanTopic")) {
                        io.capstan.operator.api.CapstanTopic topic = Serialization.unmarshal(doc, io.capstan.operator.api.CapstanTopic.class);
                        assertThat(clusters).as(file + ": " + topic.getMetadata().getName() + " names a cluster defined before it")
                                .contains(topic.getSpec().cluster);
                        assertThat(topic.getSpec().partitions).as(file.toString()).isPositive();
                    } else if (doc.contains("kind: CapstanRebalance")) {
                        io.capstan.operator.api.CapstanRebalance rebalance = Serialization.unmarshal(doc, io.capstan.operator.api.CapstanRebalance.class);
                        assertThat(clusters).as(file + ": " + rebalance.getMetadata().getName() + " names a cluster defined before it")
                                .contains(rebalance.getSpec().cluster);
                        assertThat(rebalance.getSpec().approvedProposal).as(file + ": an example never approves a proposal it cannot know").isNull();
                    } else {
                        BrokerCluster cluster = Serialization.unmarshal(doc, BrokerCluster.class);
                        assertThat(cluster.getSpec().version).as(file.toString()).isNotBlank();
                        assertThat(SpecValidator.validate(cluster.getSpec())).as(file.toString()).isEmpty();
                        clusters.add(cluster.getMetadata().getName());
                    }
                }
                assertThat(documents).as(file.toString()).isPositive();
            }
        }
    }
}
