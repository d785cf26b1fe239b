package io.capstan.broker.log;

import java.nio.ByteBuffer;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.MutableRecordBatch;
import org.apache.kafka.common.record.internal.Record;
import org.apache.kafka.common.utils.internals.BufferSupplier;
import org.apache.kafka.common.utils.internals.CloseableIterator;

/**
 * Checks a produced batch once, before it reaches the log: framing, magic, CRC, size, and the features v1 refuses.
 * Pure: returns the Kafka error to answer with and why, or {@link Verdict#OK}.
 */
public final class BatchValidator {

    public record Verdict(Errors error, String reason) {
        public static final Verdict OK = new Verdict(Errors.NONE, "");

        public boolean ok() {
            return error == Errors.NONE;
        }
    }

    private final int maxBatchBytes;

    public BatchValidator(int maxBatchBytes) {
        this.maxBatchBytes = maxBatchBytes;
    }

    /** The buffer must hold exactly one batch from its position to its limit. Thread-safe. */
    public Verdict validate(ByteBuffer records) {
        return validate(records, maxBatchBytes, "message.max.bytes");
    }

    /** As {@link #validate(ByteBuffer)} with a topic's own size limit; {@code limitName} is the setting to quote. */
    public Verdict validate(ByteBuffer records, int maxBytes, String limitName) {
        int size = records.remaining();
        if (size > maxBytes) {
            return new Verdict(Errors.MESSAGE_TOO_LARGE,
                    "batch of " + size + " bytes exceeds " + limitName + "=" + maxBytes);
        }
        if (size < BatchHeader.HEADER_SIZE) {
            return new Verdict(Errors.CORRUPT_MESSAGE, "batch of " + size + " bytes is shorter than a v2 header");
        }
        BatchHeader header = new BatchHeader().wrap(records, records.position());
        if (header.magic() != 2) {
            return new Verdict(Errors.UNSUPPORTED_FOR_MESSAGE_FORMAT,
                    "record format magic " + header.magic() + " is not supported; use a client with message format v2 (Kafka 0.11+)");
        }
        if (header.sizeInBytes() != size) {
            return new Verdict(Errors.INVALID_RECORD,
                    "exactly one batch per partition is accepted; batch length " + header.sizeInBytes() + " != " + size + " bytes sent");
        }
        if (header.computeCrc() != header.storedCrc()) {
            return new Verdict(Errors.CORRUPT_MESSAGE, "CRC32C mismatch: the batch was damaged in transit");
        }
        if (header.recordsCount() <= 0 || header.lastOffsetDelta() != header.recordsCount() - 1) {
            return new Verdict(Errors.INVALID_RECORD, "batch claims " + header.recordsCount()
                    + " records with last offset delta " + header.lastOffsetDelta());
        }
        if (header.isControl()) {
            return new Verdict(Errors.INVALID_RECORD, "control batches (transaction markers) are written by transaction coordinators, "
                    + "never by producers");
        }
        if (header.producerId() >= 0 && header.baseSequence() < 0) {
            return new Verdict(Errors.INVALID_RECORD, "a batch with producer id " + header.producerId() + " needs sequence numbers");
        }
        if (header.isTransactional() && header.producerId() < 0) {
            return new Verdict(Errors.INVALID_RECORD, "a transactional batch needs a producer id; call initTransactions() first");
        }
        return Verdict.OK;
    }

    /**
     * Kafka's CreateTime bounds: the batch's largest timestamp at most {@code afterMaxMs} ahead of {@code nowMs}, its
     * first at most {@code beforeMaxMs} behind (-1, no timestamp, passes). Kafka checks every record; the header's
     * first and largest timestamps are what retention and time lookups here use. Call after {@link #validate}.
     */
    public static Verdict validateTimestamps(ByteBuffer records, long nowMs, long beforeMaxMs, long afterMaxMs) {
        BatchHeader header = new BatchHeader().wrap(records, records.position());
        long first = header.baseTimestamp();
        long largest = header.maxTimestamp();
        if (largest != -1 && largest > nowMs && largest - nowMs > afterMaxMs) {
            return new Verdict(Errors.INVALID_TIMESTAMP, "timestamp " + largest + " is " + (largest - nowMs)
                    + " ms ahead of the broker's clock; message.timestamp.after.max.ms allows " + afterMaxMs + " ms");
        }
        if (first != -1 && first < nowMs && nowMs - first > beforeMaxMs) {
            return new Verdict(Errors.INVALID_TIMESTAMP, "timestamp " + first + " is " + (nowMs - first)
                    + " ms behind the broker's clock; message.timestamp.before.max.ms allows " + beforeMaxMs + " ms");
        }
        return Verdict.OK;
    }

    /**
     * A compacted topic keeps the latest record of each key, so a record without one cannot be written to it (Kafka
     * answers INVALID_RECORD). Reads every record, decompressing if need be; call after {@link #validate}.
     */
    public static Verdict validateKeys(ByteBuffer records, String shard) {
        for (MutableRecordBatch batch : MemoryRecords.readableRecords(records.duplicate()).batches()) {
            try (CloseableIterator<Record> it = batch.streamingIterator(BufferSupplier.NO_CACHING)) {
                while (it.hasNext()) {
                    Record r = it.next();
                    if (!r.hasKey()) {
                        return new Verdict(Errors.INVALID_RECORD, "Compacted topic cannot accept message without key in topic partition "
                                + shard + " (the record at index " + (r.offset() - batch.baseOffset()) + " has none); give every record a key");
                    }
                }
            } catch (RuntimeException e) {
                return new Verdict(Errors.CORRUPT_MESSAGE, "the records of the batch cannot be read (" + e.getMessage() + ")");
            }
        }
        return Verdict.OK;
    }
}
