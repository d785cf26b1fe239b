package io.capstan.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

/** The committed CRD in crds/ is exactly what the build generates from the API classes. */
class CrdDriftTest {
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"brokerclusters.capstan.io-v1.yml", "capstanusers.capstan.io-v1.yml", "capstantopics.capstan.io-v1.yml",
            "capstanrebalances.capstan.io-v1.yml"})
    void committedCrdMatchesTheGeneratedOne(String FILE) throws Exception {
        String generated = Files.readString(Path.of("target", "classes", "META-INF", "fabric8", FILE));
        String committed = Files.readString(Path.of("..", "crds", FILE));
        assertThat(committed).as("crds/" + FILE + " is stale: copy operator/target/classes/META-INF/fabric8/" + FILE
                + " over it after changing the API classes").isEqualTo(generated);
    }
}
