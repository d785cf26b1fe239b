package io.capstan.broker.group.modern;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.Uuid;

/**
 * A consumer-protocol member as the offsets shard keeps it, with the group epoch it was written in: enough for a new
 * coordinator to know who holds which partition at which epoch, so members go on without rejoining and nothing is
 * handed out that a member still owns. Versioned; a newer version is refused loudly rather than misread.
 */
public final class MemberCodec {
    static final short VERSION = 1;

    /** A member read back, with the group epoch of its group when it was written. */
    public record Stored(int groupEpoch, ConsumerMember member) {}

    private MemberCodec() {}

    public static byte[] encode(int groupEpoch, ConsumerMember m) {
        Writer w = new Writer();
        w.i16(VERSION);
        w.i32(groupEpoch);
        w.string(m.memberId());
        w.string(m.instanceId());
        w.string(m.rackId());
        w.string(m.clientId());
        w.string(m.clientHost());
        w.i32(m.rebalanceTimeoutMs());
        w.i32(m.subscribedTopicNames().size());
        m.subscribedTopicNames().stream().sorted().forEach(w::string);
        w.string(m.subscribedTopicRegex());
        w.string(m.serverAssignor());
        w.i32(m.memberEpoch());
        w.i32(m.previousMemberEpoch());
        w.i8(m.state().ordinal());
        w.assignment(m.assigned());
        w.assignment(m.pendingRevocation());
        ClassicMetadata c = m.classic();
        w.i8((c == null ? 0 : 1));
        if (c != null) {
            w.i32(c.sessionTimeoutMs());
            w.i32(c.protocols().size());
            c.protocols().forEach((name, metadata) -> {
                w.string(name);
                w.bytes(metadata);
            });
        }
        return w.done();
    }

    public static Stored decode(ByteBuffer b) {
        short version = b.getShort();
        if (version != VERSION) {
            throw new IllegalStateException("consumer group member record version " + version + " is newer than this broker understands");
        }
        int groupEpoch = b.getInt();
        String memberId = string(b);
        String instanceId = string(b);
        String rackId = string(b);
        String clientId = string(b);
        String clientHost = string(b);
        int rebalanceTimeoutMs = b.getInt();
        int names = b.getInt();
        Set<String> topics = new HashSet<>();
        for (int i = 0; i < names; i++) {
            topics.add(string(b));
        }
        String regex = string(b);
        String assignor = string(b);
        int epoch = b.getInt();
        int previous = b.getInt();
        MemberState state = MemberState.values()[b.get()];
        Assignment assigned = assignment(b);
        Assignment pending = assignment(b);
        ClassicMetadata classic = null;
        if (b.get() == 1) {
            int session = b.getInt();
            int count = b.getInt();
            LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
            for (int i = 0; i < count; i++) {
                String name = string(b);
                byte[] metadata = new byte[b.getInt()];
                b.get(metadata);
                protocols.put(name, metadata);
            }
            classic = new ClassicMetadata(session, protocols);
        }
        return new Stored(groupEpoch, new ConsumerMember(memberId, instanceId, rackId, clientId, clientHost, rebalanceTimeoutMs, topics,
                regex, assignor, epoch, previous, state, assigned, pending, classic));
    }

    private static Assignment assignment(ByteBuffer b) {
        int topics = b.getInt();
        Map<Uuid, Set<Integer>> out = new HashMap<>();
        for (int t = 0; t < topics; t++) {
            Uuid id = new Uuid(b.getLong(), b.getLong());
            int n = b.getInt();
            Set<Integer> ps = new HashSet<>();
            for (int i = 0; i < n; i++) {
                ps.add(b.getInt());
            }
            out.put(id, ps);
        }
        return Assignment.of(out);
    }

    private static String string(ByteBuffer b) {
        int len = b.getInt();
        if (len < 0) {
            return null;
        }
        byte[] bytes = new byte[len];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** Grows as needed; members are small and written only when they change. */
    private static final class Writer {
        ByteBuffer b = ByteBuffer.allocate(512);

        void i8(int v) {
            ensure(1);
            b.put((byte) v);
        }

        void i16(int v) {
            ensure(2);
            b.putShort((short) v);
        }

        void i32(int v) {
            ensure(4);
            b.putInt(v);
        }

        void ensure(int more) {
            if (b.remaining() < more) {
                ByteBuffer bigger = ByteBuffer.allocate(Math.max(b.capacity() * 2, b.position() + more + 64));
                b.flip();
                bigger.put(b);
                b = bigger;
            }
        }

        void string(String s) {
            if (s == null) {
                ensure(4);
                b.putInt(-1);
                return;
            }
            bytes(s.getBytes(StandardCharsets.UTF_8));
        }

        void bytes(byte[] bytes) {
            ensure(4 + bytes.length);
            b.putInt(bytes.length);
            b.put(bytes);
        }

        void assignment(Assignment a) {
            ensure(4);
            b.putInt(a.partitions().size());
            a.partitions().forEach((id, ps) -> {
                ensure(20 + 4 * ps.size());
                b.putLong(id.getMostSignificantBits()).putLong(id.getLeastSignificantBits()).putInt(ps.size());
                ps.forEach(b::putInt);
            });
        }

        byte[] done() {
            byte[] out = new byte[b.position()];
            b.flip();
            b.get(out);
            return out;
        }
    }
}
