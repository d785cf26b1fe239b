package io.capstan.broker.group;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.internal.Record;

/**
 * Encoding of committed offsets as records of the internal offsets shard: key (group, topic, partition), value
 * (offset, leader epoch, metadata, commit time); a null value deletes the key. Each starts with a version. Keys of
 * version {@link #MEMBER_KEY} are consumer-protocol group members instead: key (group, member id), value a
 * {@link io.capstan.broker.group.modern.MemberCodec} record. A record written by compaction carries a
 * {@value #COMPACTED_BELOW} header: it states the key's value as of that offset, so it never overrides a write at or
 * above it (see {@link OffsetStore#compact()}).
 */
final class OffsetRecords {
    static final short VERSION = 1;
    static final short MEMBER_KEY = 2;

    static final String COMPACTED_BELOW = "capstan.compacted-below";

    record MemberKey(String group, String memberId) {}

    /** The header of a compaction's copy that reflects every write below {@code offset}. */
    static Header[] compactedBelow(long offset) {
        return new Header[] {new RecordHeader(COMPACTED_BELOW, ByteBuffer.allocate(8).putLong(offset).array())};
    }

    /**
     * Where the record stands in the order of writes: its own offset, or for a compaction's copy just below the offset
     * it reflects the log up to (a copy is appended after writes it must not override).
     */
    static long writtenAt(Record r) {
        for (Header h : r.headers()) {
            if (COMPACTED_BELOW.equals(h.key()) && h.value() != null && h.value().length == 8) {
                return ByteBuffer.wrap(h.value()).getLong() - 1;
            }
        }
        return r.offset();
    }

    static byte[] memberKey(String group, String memberId) {
        byte[] g = group.getBytes(StandardCharsets.UTF_8);
        byte[] m = memberId.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + 2 + g.length + 2 + m.length)
                .putShort(MEMBER_KEY).putShort((short) g.length).put(g).putShort((short) m.length).put(m).array();
    }

    /** The key's version, without consuming it. */
    static short keyVersion(ByteBuffer b) {
        return b.getShort(b.position());
    }

    static MemberKey decodeMemberKey(ByteBuffer b) {
        b.getShort();
        String group = string(b);
        return new MemberKey(group, string(b));
    }

    record Key(String group, TopicPartition partition) {}

    private OffsetRecords() {}

    static byte[] key(String group, TopicPartition tp) {
        byte[] g = group.getBytes(StandardCharsets.UTF_8);
        byte[] t = tp.topic().getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(2 + 2 + g.length + 2 + t.length + 4)
                .putShort(VERSION).putShort((short) g.length).put(g).putShort((short) t.length).put(t).putInt(tp.partition())
                .array();
    }

    static byte[] value(CommittedOffset c) {
        byte[] m = c.metadata() == null ? null : c.metadata().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 4 + 2 + (m == null ? 0 : m.length) + 8)
                .putShort(VERSION).putLong(c.offset()).putInt(c.leaderEpoch()).putShort((short) (m == null ? -1 : m.length));
        if (m != null) {
            b.put(m);
        }
        return b.putLong(c.commitTimestamp()).array();
    }

    static Key decodeKey(ByteBuffer b) {
        short version = b.getShort();
        if (version != VERSION) {
            throw new IllegalStateException("offsets record key version " + version + " is newer than this broker understands");
        }
        String group = string(b);
        String topic = string(b);
        return new Key(group, new TopicPartition(topic, b.getInt()));
    }

    static CommittedOffset decodeValue(ByteBuffer b) {
        short version = b.getShort();
        if (version != VERSION) {
            throw new IllegalStateException("offsets record value version " + version + " is newer than this broker understands");
        }
        long offset = b.getLong();
        int epoch = b.getInt();
        String metadata = string(b);
        return new CommittedOffset(offset, epoch, metadata, b.getLong());
    }

    private static String string(ByteBuffer b) {
        short len = b.getShort();
        if (len < 0) {
            return null;
        }
        byte[] bytes = new byte[len];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
