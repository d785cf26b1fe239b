package io.capstan.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AppliedObjectsTest {
    private final AppliedObjects applied = new AppliedObjects();

    private static ConfigMap config(String value) {
        return new ConfigMapBuilder().withNewMetadata().withName("c").withNamespace("shop").endMetadata()
                .withData(Map.of("broker.properties", value)).build();
    }

    private static StatefulSet statefulSet(int replicas, Long generation) {
        return new StatefulSetBuilder().withNewMetadata().withName("s").withNamespace("shop").withGeneration(generation).endMetadata()
                .withNewSpec().withReplicas(replicas).endSpec().build();
    }

    @Test
    void anObjectIsWrittenFirstThenOnlyWhenItsRenderingChangesOrItIsDueAgain() {
        assertThat(applied.due(config("a"), false, null, 0)).as("never written by this process").isTrue();
        applied.written(config("a"), config("a"), 0);
        assertThat(applied.due(config("a"), false, null, 1_000)).as("the same rendering").isFalse();
        assertThat(applied.due(config("b"), false, null, 1_000)).as("a changed rendering").isTrue();
        assertThat(applied.due(config("a"), false, null, AppliedObjects.REAPPLY_EVERY_MS - 1)).isFalse();
        assertThat(applied.due(config("a"), false, null, AppliedObjects.REAPPLY_EVERY_MS)).as("drift repair").isTrue();
    }

    @Test
    void aWatchedStatefulSetIsWrittenAgainWhenMissingOrChangedBySomeoneElse() {
        applied.written(statefulSet(3, null), statefulSet(3, 4L), 0);
        assertThat(applied.due(statefulSet(3, null), true, statefulSet(3, 4L), 1_000)).as("as this process left it").isFalse();
        assertThat(applied.due(statefulSet(3, null), true, null, 1_000)).as("deleted").isTrue();
        assertThat(applied.due(statefulSet(3, null), true, statefulSet(5, 5L), 1_000)).as("someone changed its spec").isTrue();
        assertThat(applied.due(statefulSet(4, null), true, statefulSet(3, 4L), 1_000)).as("a new rendering").isTrue();
    }

    @Test
    void aWriteWhoseAnswerHasNoGenerationIsCheckedAgainstTheCacheNextTime() {
        applied.written(statefulSet(3, null), null, 0);
        assertThat(applied.due(statefulSet(3, null), true, statefulSet(3, 4L), 1_000)).isTrue();
    }
}
