package io.capstan.broker.group;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import java.util.Set;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

class OffsetWriteErrorsTest {
    private static final Set<Errors> GROUP_ANSWERS = EnumSet.of(Errors.NONE, Errors.COORDINATOR_NOT_AVAILABLE, Errors.NOT_COORDINATOR,
            Errors.INVALID_COMMIT_OFFSET_SIZE, Errors.UNKNOWN_SERVER_ERROR);

    @Test
    void kafkasMappingForTheWritesAnOffsetCommitCanFail() {
        assertThat(OffsetWriteErrors.forClient(Errors.KAFKA_STORAGE_ERROR)).isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(OffsetWriteErrors.forClient(Errors.NOT_LEADER_OR_FOLLOWER)).isEqualTo(Errors.NOT_COORDINATOR);
        assertThat(OffsetWriteErrors.forClient(Errors.NOT_ENOUGH_REPLICAS)).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(OffsetWriteErrors.forClient(Errors.NOT_ENOUGH_REPLICAS_AFTER_APPEND)).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(OffsetWriteErrors.forClient(Errors.REQUEST_TIMED_OUT)).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(OffsetWriteErrors.forClient(Errors.UNKNOWN_TOPIC_OR_PARTITION)).isEqualTo(Errors.COORDINATOR_NOT_AVAILABLE);
        assertThat(OffsetWriteErrors.forClient(Errors.MESSAGE_TOO_LARGE)).isEqualTo(Errors.INVALID_COMMIT_OFFSET_SIZE);
        assertThat(OffsetWriteErrors.forClient(Errors.NONE)).isEqualTo(Errors.NONE);
    }

    @Test
    void everyWriteErrorBecomesAnAnswerGroupClientsHandleAndRetriableStaysRetriable() {
        for (Errors write : Errors.values()) {
            Errors answer = OffsetWriteErrors.forClient(write);
            assertThat(GROUP_ANSWERS).as(write + " -> " + answer).contains(answer);
            if (write != Errors.NONE && write.exception() instanceof RetriableException) {
                assertThat(answer.exception()).as(write + " stays retriable").isInstanceOf(RetriableException.class);
            }
        }
    }
}
