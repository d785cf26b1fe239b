package io.capstan.broker.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;

/** The session rules of KIP-227 as Kafka's FetchManager applies them, and which partitions an incremental answer carries. */
class FetchSessionsTest {
    private static final Uuid TOPIC = Uuid.randomUuid();

    @Test
    void epochsStartContinueAndEndSessions() {
        FetchSessions sessions = new FetchSessions(10);
        FetchSessions.Begun sessionless = sessions.begin(0, FetchSessions.FINAL_EPOCH, List.of(p(0, 5)), List.of());
        assertThat(sessionless.session()).as("epoch -1 without a session: a plain full fetch").isNull();
        assertThat(sessionless.partitions()).hasSize(1);
        assertThat(sessions.size()).isZero();

        FetchSessions.Begun started = sessions.begin(0, FetchSessions.INITIAL_EPOCH, List.of(p(0, 5), p(1, 7)), List.of());
        FetchSessions.Session session = started.session();
        assertThat(session.id()).isPositive();
        assertThat(started.incremental()).isFalse();

        FetchSessions.Begun next = sessions.begin(session.id(), 1, List.of(p(1, 9), p(2, 0)), List.of(FetchSessions.Key.of(null, TOPIC, 0)));
        assertThat(next.incremental()).isTrue();
        assertThat(next.partitions()).extracting(FetchSessions.Partition::partition).containsExactly(1, 2);
        assertThat(next.partitions().get(0).fetchOffset()).as("the position the client sent").isEqualTo(9);

        assertThat(sessions.begin(session.id(), 1, List.of(), List.of()).error()).as("an epoch used again").isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
        assertThat(sessions.begin(session.id(), 3, List.of(), List.of()).error()).isEqualTo(Errors.INVALID_FETCH_SESSION_EPOCH);
        assertThat(sessions.begin(session.id(), 2, List.of(), List.of()).partitions()).as("nothing changed: the session's partitions").hasSize(2);
        assertThat(sessions.begin(12345, 1, List.of(), List.of()).error()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);

        FetchSessions.Begun restarted = sessions.begin(session.id(), FetchSessions.INITIAL_EPOCH, List.of(p(4, 0)), List.of());
        assertThat(restarted.session().id()).as("epoch 0 with an id: the old session ends, a new one starts").isNotEqualTo(session.id());
        assertThat(sessions.begin(session.id(), 3, List.of(), List.of()).error()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        sessions.begin(restarted.session().id(), FetchSessions.FINAL_EPOCH, List.of(p(4, 0)), List.of());
        assertThat(sessions.size()).as("epoch -1 closes it").isZero();
    }

    @Test
    void theLeastRecentlyUsedSessionMakesRoomAndZeroSlotsMeansNone() {
        FetchSessions sessions = new FetchSessions(2);
        int a = sessions.begin(0, 0, List.of(p(0, 0)), List.of()).session().id();
        int b = sessions.begin(0, 0, List.of(p(0, 0)), List.of()).session().id();
        sessions.begin(a, 1, List.of(), List.of()); // a used after b
        int c = sessions.begin(0, 0, List.of(p(0, 0)), List.of()).session().id();
        assertThat(sessions.size()).isEqualTo(2);
        assertThat(sessions.evictions()).isEqualTo(1);
        assertThat(sessions.begin(b, 1, List.of(), List.of()).error()).isEqualTo(Errors.FETCH_SESSION_ID_NOT_FOUND);
        assertThat(sessions.begin(a, 2, List.of(), List.of()).error()).isEqualTo(Errors.NONE);
        assertThat(sessions.begin(c, 1, List.of(), List.of()).error()).isEqualTo(Errors.NONE);

        FetchSessions none = new FetchSessions(0);
        FetchSessions.Begun declined = none.begin(0, 0, List.of(p(0, 0)), List.of());
        assertThat(declined.session()).as("no slots: answered without a session (id 0), the client fetches in full").isNull();
        assertThat(declined.partitions()).hasSize(1);
    }

    @Test
    void anAnswerCarriesOnlyPartitionsWithNewsAndRotatesServedOnesToTheEnd() {
        FetchSessions sessions = new FetchSessions(1);
        FetchSessions.Session s = sessions.begin(0, 0, List.of(p(0, 0), p(1, 0), p(2, 0)), List.of()).session();
        Map<FetchSessions.Key, FetchSessions.PartitionOutcome> first = Map.of(
                key(0), new FetchSessions.PartitionOutcome(false, false, 10, 10, 0),
                key(1), new FetchSessions.PartitionOutcome(false, false, 0, 0, 0),
                key(2), new FetchSessions.PartitionOutcome(false, false, 0, 0, 0));
        assertThat(s.answer(first)).as("the first answer tells everything").containsExactly(key(0), key(1), key(2));
        assertThat(s.answer(first)).as("nothing new").isEmpty();

        Map<FetchSessions.Key, FetchSessions.PartitionOutcome> second = Map.of(
                key(0), new FetchSessions.PartitionOutcome(true, false, 10, 10, 0),
                key(1), new FetchSessions.PartitionOutcome(false, false, 3, 3, 0),
                key(2), new FetchSessions.PartitionOutcome(false, true, -1, -1, -1));
        assertThat(s.answer(second)).containsExactly(key(0), key(1), key(2));
        assertThat(s.partitions()).as("partition 0 returned records: it goes last").extracting(FetchSessions.Partition::partition)
                .containsExactly(1, 2, 0);
        List<FetchSessions.Key> third = new ArrayList<>(s.answer(Map.of(
                key(0), new FetchSessions.PartitionOutcome(false, false, 10, 10, 5),
                key(1), new FetchSessions.PartitionOutcome(false, false, 3, 3, 0),
                key(2), new FetchSessions.PartitionOutcome(false, true, -1, -1, -1))));
        assertThat(third).as("a moved log start and a lasting error are news; an unchanged partition is not").containsExactly(key(2), key(0));
        assertThat(s.answer(Map.of(
                key(0), new FetchSessions.PartitionOutcome(false, false, 10, 10, 5),
                key(1), new FetchSessions.PartitionOutcome(false, false, 3, 2, 0))))
                .as("a moved last stable offset is news to a read_committed consumer").containsExactly(key(1));
    }

    private static FetchSessions.Partition p(int partition, long offset) {
        return new FetchSessions.Partition("", TOPIC, partition, offset, 1 << 20, -1, -1);
    }

    private static FetchSessions.Key key(int partition) {
        return FetchSessions.Key.of(null, TOPIC, partition);
    }
}
