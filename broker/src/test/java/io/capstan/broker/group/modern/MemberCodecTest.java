package io.capstan.broker.group.modern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;

class MemberCodecTest {
    @Test
    void aMemberReadsBackAsWritten() {
        Uuid t = Uuid.randomUuid();
        Uuid u = Uuid.randomUuid();
        ConsumerMember m = new ConsumerMember("m-1", "instance", "rack-a", "client", "/10.0.0.1", 45_000, Set.of("t", "u"), "orders-.*",
                "range", 7, 6, MemberState.UNREVOKED_PARTITIONS, Assignment.of(Map.of(t, Set.of(0, 2))), Assignment.of(Map.of(u, Set.of(5))),
                null);
        MemberCodec.Stored back = MemberCodec.decode(ByteBuffer.wrap(MemberCodec.encode(9, m)));
        assertThat(back.groupEpoch()).isEqualTo(9);
        assertThat(back.member()).isEqualTo(m);
    }

    @Test
    void aClassicMemberKeepsItsProtocolsAndAManyPartitionMemberGrowsTheBuffer() {
        LinkedHashMap<String, byte[]> protocols = new LinkedHashMap<>();
        protocols.put("cooperative-sticky", new byte[] {0, 3, 1, 2});
        protocols.put("range", new byte[700]);
        Map<Uuid, Set<Integer>> many = new java.util.HashMap<>();
        for (int i = 0; i < 50; i++) {
            Set<Integer> ps = new java.util.HashSet<>();
            for (int p = 0; p < 40; p++) {
                ps.add(p);
            }
            many.put(Uuid.randomUuid(), ps);
        }
        ConsumerMember m = ConsumerMember.fromClassic("c-1", null, "c", "h", 300_000, Set.of("t"), null, 3, Assignment.of(many),
                new ClassicMetadata(10_000, protocols));
        ConsumerMember back = MemberCodec.decode(ByteBuffer.wrap(MemberCodec.encode(3, m))).member();
        assertThat(back.assigned()).isEqualTo(m.assigned());
        assertThat(back.classic().sessionTimeoutMs()).isEqualTo(10_000);
        assertThat(back.classic().protocols().keySet()).containsExactly("cooperative-sticky", "range");
        assertThat(back.classic().protocols().get("cooperative-sticky")).containsExactly(0, 3, 1, 2);
        assertThat(back.classic().protocols().get("range")).hasSize(700);
    }

    @Test
    void aNewerVersionIsRefusedRatherThanMisread() {
        byte[] bytes = MemberCodec.encode(1, ConsumerMember.joining("m", null, "c", "h"));
        bytes[1] = 9;
        assertThatThrownBy(() -> MemberCodec.decode(ByteBuffer.wrap(bytes))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("newer than this broker understands");
    }
}
