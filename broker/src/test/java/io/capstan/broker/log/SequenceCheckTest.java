package io.capstan.broker.log;

import static org.assertj.core.api.Assertions.assertThat;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

class SequenceCheckTest {

    @Test
    void unknownProducerMustStartAtZero() {
        assertThat(SequenceCheck.check(null, (short) 0, 0, 4).outcome()).isEqualTo(SequenceCheck.Outcome.APPEND);
        assertThat(SequenceCheck.check(null, (short) 0, 5, 9).outcome()).isEqualTo(SequenceCheck.Outcome.OUT_OF_ORDER);
    }

    @Test
    void olderEpochIsFencedNewerEpochRestartsAtZero() {
        ProducerEntry e = ProducerEntry.first((short) 3, 0, 9, 100, 9, 0);
        assertThat(SequenceCheck.check(e, (short) 2, 10, 10).outcome()).isEqualTo(SequenceCheck.Outcome.FENCED);
        assertThat(SequenceCheck.check(e, (short) 4, 0, 0).outcome()).isEqualTo(SequenceCheck.Outcome.APPEND);
        assertThat(SequenceCheck.check(e, (short) 4, 10, 10).outcome()).isEqualTo(SequenceCheck.Outcome.OUT_OF_ORDER);
    }

    @Test
    void sequenceWrapsAroundAtIntMax() {
        ProducerEntry e = ProducerEntry.first((short) 0, Integer.MAX_VALUE - 1, Integer.MAX_VALUE, 0, 1, 0);
        assertThat(SequenceCheck.check(e, (short) 0, 0, 3).outcome()).isEqualTo(SequenceCheck.Outcome.APPEND);
        assertThat(SequenceCheck.check(e, (short) 0, 1, 3).outcome()).isEqualTo(SequenceCheck.Outcome.OUT_OF_ORDER);
        assertThat(SequenceCheck.check(e, (short) 0, Integer.MAX_VALUE - 9, Integer.MAX_VALUE - 5).outcome())
                .as("behind, across the wrap").isEqualTo(SequenceCheck.Outcome.OLD_DUPLICATE);
    }

    /**
     * After any run of in-order batches: the next in order appends, the last five are duplicates with their offsets,
     * older ones are old duplicates (already written, offsets forgotten), and a gap ahead is out of order.
     */
    @Property
    void lastFiveBatchesAreRecognisedAsDuplicates(@ForAll @IntRange(min = 1, max = 40) int batches,
                                                  @ForAll @IntRange(min = 1, max = 20) int size) {
        ProducerEntry entry = null;
        int seq = 0;
        long offset = 1000;
        for (int i = 0; i < batches; i++) {
            SequenceCheck.Result r = SequenceCheck.check(entry, (short) 0, seq, seq + size - 1);
            assertThat(r.outcome()).isEqualTo(SequenceCheck.Outcome.APPEND);
            entry = entry == null ? ProducerEntry.first((short) 0, seq, seq + size - 1, offset, size - 1, 0)
                    : entry.append((short) 0, seq, seq + size - 1, offset, size - 1, 0);
            seq += size;
            offset += size;
        }
        assertThat(entry.size()).isEqualTo(Math.min(batches, ProducerEntry.MAX_BATCHES));
        for (int back = 1; back <= batches; back++) {
            int first = seq - back * size;
            SequenceCheck.Result r = SequenceCheck.check(entry, (short) 0, first, first + size - 1);
            if (back <= ProducerEntry.MAX_BATCHES) {
                assertThat(r.outcome()).isEqualTo(SequenceCheck.Outcome.DUPLICATE);
                assertThat(r.duplicateBaseOffset()).isEqualTo(offset - (long) back * size);
            } else {
                assertThat(r.outcome()).isEqualTo(SequenceCheck.Outcome.OLD_DUPLICATE);
                assertThat(r.error()).isEqualTo(org.apache.kafka.common.protocol.Errors.DUPLICATE_SEQUENCE_NUMBER);
            }
        }
        assertThat(SequenceCheck.check(entry, (short) 0, seq + 1, seq + 1).outcome()).isEqualTo(SequenceCheck.Outcome.OUT_OF_ORDER);
        assertThat(SequenceCheck.check(entry, (short) 0, seq, seq).outcome()).isEqualTo(SequenceCheck.Outcome.APPEND);
        assertThat(ProducerEntry.decode(entry.encode())).isEqualTo(entry);
    }
}
