package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.operator.api.BrokerCluster;
import io.capstan.operator.spec.SpecValidator;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Every example a user may apply parses as a BrokerCluster and passes the operator's validation. */
class ExamplesTest {
    @Test
    void everyExampleIsAValidBrokerCluster() throws Exception {
        try (Stream<Path> files = Files.list(Path.of("..", "manifests", "examples"))) {
            for (Path file : files.sorted().toList()) {
                BrokerCluster cluster = Serialization.unmarshal(Files.readString(file), BrokerCluster.class);
                assertThat(cluster.getSpec().version).as(file.toString()).isNotBlank();
                assertThat(SpecValidator.validate(cluster.getSpec())).as(file.toString()).isEmpty();
            }
        }
    }
}
