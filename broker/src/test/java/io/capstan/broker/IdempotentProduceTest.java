package io.capstan.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.InitProducerIdResponseData;
import org.apache.kafka.common.message.ProduceResponseData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Producer ids, epochs and sequences over the wire, including across a broker restart. */
class IdempotentProduceTest {
    static final short PRODUCE_V = 11;

    @TempDir
    Path dir;

    @Test
    void retriesGetOriginalOffsetsGapsAndOldEpochsAreRefusedAndStateSurvivesRestart() throws IOException {
        long pid;
        MemoryRecords second;
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            createTopic(c);
            InitProducerIdResponseData init = c.send(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1));
            assertThat(init.errorCode()).isZero();
            pid = init.producerId();
            assertThat(init.producerEpoch()).isZero();

            assertThat(produce(c, Batches.idempotent(pid, (short) 0, 0, 10))).isEqualTo(result(Errors.NONE, 0));
            second = Batches.idempotent(pid, (short) 0, 10, 5);
            assertThat(produce(c, second)).isEqualTo(result(Errors.NONE, 10));
            // a retry of an acknowledged batch is answered with its original offset and appends nothing
            assertThat(produce(c, second)).isEqualTo(result(Errors.NONE, 10));
            assertThat(produce(c, Batches.idempotent(pid, (short) 0, 0, 10))).isEqualTo(result(Errors.NONE, 0));
            assertThat(logEnd(broker)).isEqualTo(15);
            // a gap in the sequence is refused
            assertThat(produce(c, Batches.idempotent(pid, (short) 0, 30, 1)).error).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            // an unknown producer must start at sequence 0
            assertThat(produce(c, Batches.idempotent(pid + 999, (short) 0, 7, 1)).error).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            assertThat(logEnd(broker)).isEqualTo(15);
        }
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            assertThat(logEnd(broker)).isEqualTo(15);
            // producer state was recovered: the retry is still recognised after the restart
            assertThat(produce(c, second)).isEqualTo(result(Errors.NONE, 10));
            assertThat(produce(c, Batches.idempotent(pid, (short) 0, 15, 1))).isEqualTo(result(Errors.NONE, 15));
            // bumping the epoch (KIP-360) fences the old one
            InitProducerIdResponseData bumped = c.send(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(pid).setProducerEpoch((short) 0));
            assertThat(bumped.producerId()).isEqualTo(pid);
            assertThat(bumped.producerEpoch()).isEqualTo((short) 1);
            assertThat(produce(c, Batches.idempotent(pid, (short) 1, 0, 2))).isEqualTo(result(Errors.NONE, 16));
            assertThat(produce(c, Batches.idempotent(pid, (short) 0, 16, 1)).error).isEqualTo(Errors.INVALID_PRODUCER_EPOCH);
            assertThat(produce(c, Batches.idempotent(pid, (short) 2, 5, 1)).error).isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
            assertThat(logEnd(broker)).isEqualTo(18);
            // producer ids are never reused, even after a restart
            InitProducerIdResponseData fresh = c.send(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1));
            assertThat(fresh.producerId()).isNotEqualTo(pid);
        }
    }

    @Test
    void aRetryOlderThanTheRememberedBatchesIsAnsweredAsAlreadyWrittenAndAppendsNothing() throws IOException {
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            createTopic(c);
            InitProducerIdResponseData init = c.send(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1));
            long pid = init.producerId();
            MemoryRecords first = Batches.idempotent(pid, (short) 0, 0, 2);
            assertThat(produce(c, first)).isEqualTo(result(Errors.NONE, 0));
            for (int b = 1; b <= 6; b++) {
                assertThat(produce(c, Batches.idempotent(pid, (short) 0, b * 2, 2))).isEqualTo(result(Errors.NONE, b * 2));
            }
            // the first batch is six batches back: not remembered, but certainly written (everything after it was in order)
            assertThat(produce(c, Batches.idempotent(pid, (short) 0, 0, 2)).error).isEqualTo(Errors.DUPLICATE_SEQUENCE_NUMBER);
            assertThat(logEnd(broker)).isEqualTo(14);
            assertThat(produce(c, Batches.idempotent(pid, (short) 0, 16, 1)).error).as("a gap ahead is still refused")
                    .isEqualTo(Errors.OUT_OF_ORDER_SEQUENCE_NUMBER);
        }
    }

    @Test
    void aTransactionalIdIsCoordinatedOnlyByTheTransactionCoordinatorAndItsTimeoutIsBounded() throws Exception {
        try (TestBroker broker = new TestBroker(dir); RawKafkaConnection c = new RawKafkaConnection(broker.broker().port())) {
            assertThat(broker.broker().transactions().awaitCoordinating(java.time.Duration.ofSeconds(1))).as("not before the first "
                    + "FindCoordinator creates its shard").isFalse();
            InitProducerIdResponseData early = c.send(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId("tx-1").setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1));
            assertThat(early.errorCode()).isEqualTo(Errors.NOT_COORDINATOR.code());
            org.apache.kafka.common.message.FindCoordinatorResponseData found = c.send(ApiKeys.FIND_COORDINATOR, (short) 3,
                    new org.apache.kafka.common.message.FindCoordinatorRequestData().setKey("tx-1").setKeyType((byte) 1));
            assertThat(found.errorCode()).isIn(Errors.NONE.code(), Errors.COORDINATOR_NOT_AVAILABLE.code());
            assertThat(broker.broker().transactions().awaitCoordinating(java.time.Duration.ofSeconds(30))).isTrue();
            InitProducerIdResponseData tooLong = c.send(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId("tx-1").setTransactionTimeoutMs(900_001).setProducerId(-1).setProducerEpoch((short) -1));
            assertThat(tooLong.errorCode()).as("beyond transaction.max.timeout.ms").isEqualTo(Errors.INVALID_TRANSACTION_TIMEOUT.code());
            InitProducerIdResponseData ok = c.send(ApiKeys.INIT_PRODUCER_ID, (short) 4,
                    new InitProducerIdRequestData().setTransactionalId("tx-1").setTransactionTimeoutMs(60_000).setProducerId(-1).setProducerEpoch((short) -1));
            assertThat(ok.errorCode()).isEqualTo(Errors.NONE.code());
            assertThat(ok.producerEpoch()).isZero();
        }
    }

    record Outcome(Errors error, long baseOffset) {}

    static Outcome result(Errors error, long offset) {
        return new Outcome(error, offset);
    }

    static Outcome produce(RawKafkaConnection c, MemoryRecords records) throws IOException {
        ProduceResponseData r = c.send(ApiKeys.PRODUCE, PRODUCE_V, Batches.produce("t", 0, records));
        var p = r.responses().iterator().next().partitionResponses().get(0);
        Errors e = Errors.forCode(p.errorCode());
        return new Outcome(e, e == Errors.NONE ? p.baseOffset() : -1);
    }

    static void createTopic(RawKafkaConnection c) throws IOException {
        CreateTopicsRequestData req = new CreateTopicsRequestData().setTimeoutMs(10_000);
        req.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("t").setNumPartitions(1).setReplicationFactor((short) 1));
        c.send(ApiKeys.CREATE_TOPICS, (short) 7, req);
    }

    static long logEnd(TestBroker broker) {
        return broker.broker().logs().catalog().shard(new TopicPartition("t", 0)).highWatermark();
    }
}
