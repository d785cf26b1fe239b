package io.capstan.broker.txn;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;
import org.apache.kafka.common.TopicPartition;

/**
 * What the coordinator knows of one transactional id: its producer id and epoch (and the epoch before the last bump,
 * so a producer retrying InitProducerId after a lost answer is recognised, KIP-360), its timeout, its state, the
 * partitions of the current transaction and when it began. Immutable; every change is written to the transaction log
 * before it takes effect.
 */
public record TxnMetadata(String transactionalId, long producerId, short producerEpoch, short lastProducerEpoch, int timeoutMs,
                          TxnState state, SortedSet<TopicPartition> partitions, long txnStartMs, long lastUpdateMs,
                          long previousProducerId, long nextProducerId) {
    /** Version 2 adds the producer ids of transaction version 2's id rotation; version 1 records read as none. */
    private static final byte VERSION = 2;
    private static final java.util.Comparator<TopicPartition> ORDER =
            java.util.Comparator.comparing(TopicPartition::topic).thenComparingInt(TopicPartition::partition);

    public TxnMetadata {
        SortedSet<TopicPartition> copy = new TreeSet<>(ORDER);
        copy.addAll(partitions);
        partitions = Collections.unmodifiableSortedSet(copy);
    }

    public TxnMetadata(String transactionalId, long producerId, short producerEpoch, short lastProducerEpoch, int timeoutMs,
                       TxnState state, SortedSet<TopicPartition> partitions, long txnStartMs, long lastUpdateMs) {
        this(transactionalId, producerId, producerEpoch, lastProducerEpoch, timeoutMs, state, partitions, txnStartMs, lastUpdateMs, -1, -1);
    }

    static SortedSet<TopicPartition> none() {
        return new TreeSet<>(ORDER);
    }

    TxnMetadata with(TxnState newState, SortedSet<TopicPartition> newPartitions, long startMs, long nowMs) {
        return new TxnMetadata(transactionalId, producerId, producerEpoch, lastProducerEpoch, timeoutMs, newState, newPartitions, startMs, nowMs,
                previousProducerId, nextProducerId);
    }

    /**
     * Transaction version 2's end (KIP-890 part 2): prepared under the next epoch, which the markers carry and the
     * producer goes on with; when epochs run out, {@code rotateTo} is the producer id it goes on with instead (epoch 0).
     */
    TxnMetadata endedV2(TxnState prepare, long rotateTo, long nowMs) {
        return new TxnMetadata(transactionalId, producerId, (short) (producerEpoch + 1), producerEpoch, timeoutMs, prepare, partitions,
                txnStartMs, nowMs, previousProducerId, rotateTo);
    }

    /** After a rotation's markers: the new producer id at epoch 0; the old one is remembered to recognise a retried end. */
    TxnMetadata rotated(long nowMs) {
        return new TxnMetadata(transactionalId, nextProducerId, (short) 0, lastProducerEpoch, timeoutMs, state, partitions, txnStartMs, nowMs,
                producerId, -1);
    }

    /** The producer id and epoch a producer goes on with once this state's transaction is complete. */
    long producerIdAfterEnd() {
        return nextProducerId >= 0 ? nextProducerId : producerId;
    }

    short producerEpochAfterEnd() {
        return nextProducerId >= 0 ? 0 : producerEpoch;
    }

    TxnMetadata bumped(long newProducerId, short newEpoch, int newTimeoutMs, TxnState newState, long nowMs) {
        return new TxnMetadata(transactionalId, newProducerId, newEpoch, newProducerId == producerId ? producerEpoch : -1, newTimeoutMs,
                newState, newState == TxnState.EMPTY ? none() : partitions, newState == TxnState.EMPTY ? -1 : txnStartMs, nowMs,
                newProducerId == producerId ? previousProducerId : producerId, -1);
    }

    byte[] encodeValue() {
        int size = 1 + 8 + 2 + 2 + 4 + 1 + 8 + 8 + 4 + 8 + 8;
        for (TopicPartition tp : partitions) {
            size += 2 + tp.topic().getBytes(StandardCharsets.UTF_8).length + 4;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(VERSION).putLong(producerId).putShort(producerEpoch).putShort(lastProducerEpoch).putInt(timeoutMs)
                .put((byte) state.ordinal()).putLong(txnStartMs).putLong(lastUpdateMs).putInt(partitions.size());
        for (TopicPartition tp : partitions) {
            byte[] topic = tp.topic().getBytes(StandardCharsets.UTF_8);
            b.putShort((short) topic.length).put(topic).putInt(tp.partition());
        }
        return b.putLong(previousProducerId).putLong(nextProducerId).array();
    }

    static TxnMetadata decode(String transactionalId, ByteBuffer b) {
        byte version = b.get();
        if (version != 1 && version != VERSION) {
            throw new IllegalArgumentException("transaction log record of version " + version + " for " + transactionalId
                    + " is newer than this broker reads; run a broker of the version that wrote it");
        }
        long producerId = b.getLong();
        short epoch = b.getShort();
        short lastEpoch = b.getShort();
        int timeoutMs = b.getInt();
        TxnState state = TxnState.values()[b.get()];
        long start = b.getLong();
        long update = b.getLong();
        int n = b.getInt();
        SortedSet<TopicPartition> partitions = none();
        for (int i = 0; i < n; i++) {
            byte[] topic = new byte[b.getShort()];
            b.get(topic);
            partitions.add(new TopicPartition(new String(topic, StandardCharsets.UTF_8), b.getInt()));
        }
        long previous = version >= 2 ? b.getLong() : -1;
        long next = version >= 2 ? b.getLong() : -1;
        return new TxnMetadata(transactionalId, producerId, epoch, lastEpoch, timeoutMs, state, partitions, start, update, previous, next);
    }
}
