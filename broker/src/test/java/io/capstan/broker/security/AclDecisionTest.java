package io.capstan.broker.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.security.auth.KafkaPrincipal;
import org.junit.jupiter.api.Test;

class AclDecisionTest {
    static final KafkaPrincipal ALICE = new KafkaPrincipal("User", "alice");
    static final KafkaPrincipal BOB = new KafkaPrincipal("User", "bob");

    static AclBinding acl(ResourceType type, String name, PatternType pattern, String principal, String host, AclOperation op, AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry(principal, host, op, permission));
    }

    static AclBinding allow(String topic, PatternType pattern, String principal, AclOperation op) {
        return acl(ResourceType.TOPIC, topic, pattern, principal, "*", op, AclPermissionType.ALLOW);
    }

    static boolean can(List<AclBinding> acls, KafkaPrincipal who, AclOperation op, String topic) {
        return AclDecision.authorize(acls, Set.of("User:admin"), false, new AclDecision.Request(who, "10.0.0.1", op, ResourceType.TOPIC, topic));
    }

    @Test
    void literalPrefixedAndWildcardPatternsMatchAsInKafka() {
        List<AclBinding> acls = List.of(
                allow("orders", PatternType.LITERAL, "User:alice", AclOperation.WRITE),
                allow("payments-", PatternType.PREFIXED, "User:alice", AclOperation.READ),
                allow("*", PatternType.LITERAL, "User:bob", AclOperation.DESCRIBE));
        assertThat(can(acls, ALICE, AclOperation.WRITE, "orders")).isTrue();
        assertThat(can(acls, ALICE, AclOperation.WRITE, "orders-eu")).as("literal is not a prefix").isFalse();
        assertThat(can(acls, ALICE, AclOperation.READ, "payments-eu")).isTrue();
        assertThat(can(acls, ALICE, AclOperation.READ, "payment")).isFalse();
        assertThat(can(acls, BOB, AclOperation.DESCRIBE, "anything")).isTrue();
        assertThat(can(acls, BOB, AclOperation.READ, "anything")).isFalse();
        assertThat(can(acls, new KafkaPrincipal("User", "admin"), AclOperation.DELETE, "orders")).as("super user").isTrue();
    }

    @Test
    void readWriteDeleteAndAlterImplyDescribeAndAlterConfigsImpliesDescribeConfigs() {
        for (AclOperation op : List.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER)) {
            assertThat(can(List.of(allow("t", PatternType.LITERAL, "User:alice", op)), ALICE, AclOperation.DESCRIBE, "t")).as(op.name()).isTrue();
        }
        assertThat(can(List.of(allow("t", PatternType.LITERAL, "User:alice", AclOperation.CREATE)), ALICE, AclOperation.DESCRIBE, "t")).isFalse();
        assertThat(can(List.of(allow("t", PatternType.LITERAL, "User:alice", AclOperation.ALTER_CONFIGS)), ALICE, AclOperation.DESCRIBE_CONFIGS, "t")).isTrue();
        assertThat(can(List.of(allow("t", PatternType.LITERAL, "User:alice", AclOperation.ALL)), ALICE, AclOperation.ALTER_CONFIGS, "t")).isTrue();
        // a DENY of READ does not deny DESCRIBE (Kafka implies only from ALLOW)
        List<AclBinding> denyRead = List.of(allow("t", PatternType.LITERAL, "User:alice", AclOperation.DESCRIBE),
                acl(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:alice", "*", AclOperation.READ, AclPermissionType.DENY));
        assertThat(can(denyRead, ALICE, AclOperation.DESCRIBE, "t")).isTrue();
        assertThat(can(denyRead, ALICE, AclOperation.READ, "t")).isFalse();
    }

    @Test
    void hostsPrincipalsAndResourceTypesMustMatch() {
        List<AclBinding> acls = List.of(acl(ResourceType.TOPIC, "t", PatternType.LITERAL, "User:*", "10.0.0.2", AclOperation.READ, AclPermissionType.ALLOW),
                acl(ResourceType.GROUP, "t", PatternType.LITERAL, "User:alice", "*", AclOperation.READ, AclPermissionType.ALLOW));
        assertThat(can(acls, ALICE, AclOperation.READ, "t")).as("only from 10.0.0.2").isFalse();
        assertThat(AclDecision.authorize(acls, Set.of(), false, new AclDecision.Request(ALICE, "10.0.0.2", AclOperation.READ, ResourceType.TOPIC, "t"))).isTrue();
        assertThat(AclDecision.authorize(acls, Set.of(), false, new AclDecision.Request(ALICE, "10.0.0.9", AclOperation.READ, ResourceType.GROUP, "t"))).isTrue();
    }

    @Test
    void withoutAnyAclOnTheResourceTheDefaultDecides() {
        List<AclBinding> other = List.of(allow("other", PatternType.LITERAL, "User:bob", AclOperation.READ));
        var request = new AclDecision.Request(ALICE, "h", AclOperation.READ, ResourceType.TOPIC, "t");
        assertThat(AclDecision.authorize(other, Set.of(), false, request)).isFalse();
        assertThat(AclDecision.authorize(other, Set.of(), true, request)).isTrue();
        // an ACL on the resource for someone else means the default no longer applies
        List<AclBinding> onT = List.of(allow("t", PatternType.LITERAL, "User:bob", AclOperation.READ));
        assertThat(AclDecision.authorize(onT, Set.of(), true, request)).isFalse();
    }

    @Property
    void aMatchingDenyAlwaysWinsOverAnyAllows(@ForAll("allows") List<AclBinding> allows, @ForAll("operations") AclOperation op) {
        List<AclBinding> acls = new ArrayList<>(allows);
        acls.add(acl(ResourceType.TOPIC, "t", PatternType.PREFIXED, "User:alice", "*", op, AclPermissionType.DENY));
        assertThat(can(acls, ALICE, op, "t")).isFalse();
        assertThat(can(acls, new KafkaPrincipal("User", "admin"), op, "t")).as("super users are never denied").isTrue();
    }

    @Provide
    Arbitrary<AclOperation> operations() {
        return Arbitraries.of(AclOperation.READ, AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER,
                AclOperation.ALTER_CONFIGS, AclOperation.DESCRIBE_CONFIGS, AclOperation.CREATE);
    }

    @Provide
    Arbitrary<List<AclBinding>> allows() {
        Arbitrary<AclBinding> one = Combinators.combine(
                Arbitraries.of("t", "*", "x"), Arbitraries.of(PatternType.LITERAL, PatternType.PREFIXED),
                Arbitraries.of("User:alice", "User:*", "User:bob"), operations().injectNull(0.0).map(o -> o),
                Arbitraries.of("*", "10.0.0.1"))
                .as((name, pattern, principal, op, host) -> acl(ResourceType.TOPIC, name, pattern, principal, host, op, AclPermissionType.ALLOW));
        return one.list().ofMaxSize(8);
    }
}
