package io.capstan.broker;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.compress.Compression;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.record.internal.MemoryRecords;
import org.apache.kafka.common.record.internal.SimpleRecord;

/** Record batches and produce requests built with the Kafka client's own encoder. */
final class Batches {
    private Batches() {}

    static MemoryRecords plain(String... values) {
        return MemoryRecords.withRecords(Compression.NONE, records(values));
    }

    /** Records stamped with the given CreateTime. */
    static MemoryRecords at(long timestamp, String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(timestamp, null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return MemoryRecords.withRecords(Compression.NONE, records);
    }

    static MemoryRecords idempotent(long producerId, short epoch, int firstSeq, int count) {
        String[] values = new String[count];
        for (int i = 0; i < count; i++) {
            values[i] = "seq-" + (firstSeq + i);
        }
        return MemoryRecords.withIdempotentRecords(Compression.NONE, producerId, epoch, firstSeq, records(values));
    }

    private static SimpleRecord[] records(String... values) {
        SimpleRecord[] records = new SimpleRecord[values.length];
        for (int i = 0; i < values.length; i++) {
            records[i] = new SimpleRecord(System.currentTimeMillis(), null, values[i].getBytes(StandardCharsets.UTF_8));
        }
        return records;
    }

    static ProduceRequestData produce(String topic, int partition, MemoryRecords records) {
        ProduceRequestData request = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(30_000);
        ProduceRequestData.TopicProduceData t = new ProduceRequestData.TopicProduceData().setName(topic);
        t.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(partition).setRecords(records));
        request.topicData().add(t);
        return request;
    }

    /** A copy of the batch with one payload byte flipped, as a damaged network would deliver it. */
    static MemoryRecords corrupted(MemoryRecords records) {
        ByteBuffer copy = ByteBuffer.allocate(records.sizeInBytes());
        copy.put(records.buffer().duplicate()).flip();
        int last = copy.limit() - 1;
        copy.put(last, (byte) (copy.get(last) ^ 0x5a));
        return MemoryRecords.readableRecords(copy);
    }
}
