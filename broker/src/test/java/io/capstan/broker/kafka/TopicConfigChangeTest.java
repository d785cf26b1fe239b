package io.capstan.broker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.broker.kafka.TopicConfigChange.Entry;
import io.capstan.broker.kafka.TopicConfigChange.Op;
import io.capstan.broker.kafka.TopicConfigChange.Outcome;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class TopicConfigChangeTest {
    private static Outcome incremental(Map<String, String> current, Entry... entries) {
        return TopicConfigChange.incremental(current, List.of(entries));
    }

    @Test
    void setOverridesAndDeleteReturnsAKeyToItsDefault() {
        Outcome set = incremental(Map.of("retention.ms", "1000"), new Entry("retention.ms", Op.SET, "2000"), new Entry("max.message.bytes", Op.SET, "1024"));
        assertThat(set.ok()).isTrue();
        assertThat(set.configs()).isEqualTo(Map.of("retention.ms", "2000", "max.message.bytes", "1024"));

        Outcome deleted = incremental(set.configs(), new Entry("retention.ms", Op.DELETE, null));
        assertThat(deleted.configs()).isEqualTo(Map.of("max.message.bytes", "1024"));
        assertThat(incremental(Map.of(), new Entry("retention.ms", Op.DELETE, null)).configs())
                .as("deleting an override that is not there changes nothing").isEmpty();
    }

    @Test
    void appendAndSubtractWorkOnListsOnlyAndStartFromTheDefault() {
        Outcome appended = incremental(Map.of(), new Entry("cleanup.policy", Op.APPEND, "delete"));
        assertThat(appended.configs()).as("appending a value the default already holds").isEqualTo(Map.of("cleanup.policy", "delete"));

        Outcome notAList = incremental(Map.of(), new Entry("retention.ms", Op.APPEND, "5"));
        assertThat(notAList.error()).isEqualTo(Errors.INVALID_CONFIG);
        assertThat(notAList.message()).isEqualTo("Can't APPEND to key retention.ms because its type is not LIST.");
        assertThat(incremental(Map.of(), new Entry("retention.ms", Op.SUBTRACT, "5")).error()).isEqualTo(Errors.INVALID_CONFIG);

        Outcome compact = incremental(Map.of(), new Entry("cleanup.policy", Op.APPEND, "compact"));
        assertThat(compact.configs()).as("appended to the default").isEqualTo(Map.of("cleanup.policy", "delete,compact"));
        Outcome onlyCompact = incremental(Map.of("cleanup.policy", "delete,compact"), new Entry("cleanup.policy", Op.SUBTRACT, "delete"));
        assertThat(onlyCompact.configs()).isEqualTo(Map.of("cleanup.policy", "compact"));
        Outcome unknownPolicy = incremental(Map.of(), new Entry("cleanup.policy", Op.APPEND, "archive"));
        assertThat(unknownPolicy.error()).as("the resulting list is validated").isEqualTo(Errors.INVALID_CONFIG);
        assertThat(unknownPolicy.message()).contains("cleanup.policy").contains("archive");
        Outcome emptied = incremental(Map.of("cleanup.policy", "delete"), new Entry("cleanup.policy", Op.SUBTRACT, "delete"));
        assertThat(emptied.error()).isEqualTo(Errors.INVALID_CONFIG);
    }

    @Test
    void valuesAreValidatedInTheirRealRange() {
        assertThat(incremental(Map.of(), new Entry("max.message.bytes", Op.SET, "4294967296")).error()).isEqualTo(Errors.INVALID_CONFIG);
        assertThat(incremental(Map.of(), new Entry("min.insync.replicas", Op.SET, "0")).error()).isEqualTo(Errors.INVALID_CONFIG);
        assertThat(incremental(Map.of(), new Entry("retention.ms", Op.SET, "soon")).message()).contains("retention.ms");
        assertThat(incremental(Map.of(), new Entry("min.cleanable.dirty.ratio", Op.SET, "1.5")).message()).contains("between 0 and 1");
        assertThat(incremental(Map.of(), new Entry("max.compaction.lag.ms", Op.SET, "0")).error()).isEqualTo(Errors.INVALID_CONFIG);
        assertThat(incremental(Map.of(), new Entry("delete.retention.ms", Op.SET, "0")).configs()).isEqualTo(Map.of("delete.retention.ms", "0"));
        Outcome unknown = incremental(Map.of(), new Entry("segment.bytes", Op.SET, "1"));
        assertThat(unknown.error()).isEqualTo(Errors.INVALID_CONFIG);
        assertThat(unknown.message()).contains("segment.bytes").contains("not supported");
        assertThat(incremental(Map.of(), new Entry("segment.bytes", Op.DELETE, null)).error())
                .as("an unknown key is refused even when deleted").isEqualTo(Errors.INVALID_CONFIG);
        assertThat(incremental(Map.of("retention.ms", "1"), new Entry("retention.ms", Op.SET, "-1")).configs())
                .as("-1: unlimited retention").isEqualTo(Map.of("retention.ms", "-1"));
    }

    @Test
    void malformedRequestsAreInvalidRequestsAndChangeNothing() {
        Outcome duplicate = incremental(Map.of(), new Entry("retention.ms", Op.SET, "1"), new Entry("retention.ms", Op.DELETE, null));
        assertThat(duplicate.error()).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(duplicate.message()).isEqualTo("Error due to duplicate config keys");
        assertThat(duplicate.configs()).isNull();
        assertThat(incremental(Map.of(), new Entry("retention.ms", Op.SET, null)).error()).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(incremental(Map.of(), new Entry("retention.ms", null, "1")).error()).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(Op.forId((byte) 4)).isNull();
        assertThat(Op.forId((byte) -1)).isNull();
        assertThat(Op.forId((byte) 2)).isEqualTo(Op.APPEND);
    }

    @Test
    void theOlderAlterConfigsReplacesEveryOverride() {
        Outcome replaced = TopicConfigChange.replacing(List.of(new Entry("retention.bytes", Op.SET, "1048576")));
        assertThat(replaced.configs()).isEqualTo(Map.of("retention.bytes", "1048576"));
        assertThat(TopicConfigChange.replacing(List.of()).configs()).as("no configs: every override goes").isEmpty();
        assertThat(TopicConfigChange.replacing(List.of(new Entry("retention.ms", Op.SET, null))).error()).isEqualTo(Errors.INVALID_REQUEST);
        assertThat(TopicConfigChange.replacing(List.of(new Entry("retention.ms", Op.SET, "x"))).error()).isEqualTo(Errors.INVALID_CONFIG);
    }
}
