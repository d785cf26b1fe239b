package io.capstan.broker.group;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.TopicPartition;

/**
 * Encoding of committed offsets as records of the internal offsets shard: key (group, topic, partition), value
 * (offset, leader epoch, metadata, commit time); a null value deletes the key. Each starts with a version. Keys of
 * version {@link #MEMBER_KEY} are consumer-protocol group members instead: key (group, member id), value a
 * {@link io.capstan.broker.group.modern.MemberCodec} record.
 */
final class OffsetRecords {
    static final short VERSION = 1;
    static final short MEMBER_KEY = 2;

    record MemberKey(String group, String memberId) {}

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
