package io.capstan.operator.users;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.capstan.operator.api.CapstanUserSpec;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

class AclRulesTest {
    static CapstanUserSpec.Acl acl(String type, String name, String patternType, String permission, String... operations) {
        CapstanUserSpec.Acl acl = new CapstanUserSpec.Acl();
        acl.resource = new CapstanUserSpec.AclResource();
        acl.resource.type = type;
        acl.resource.name = name;
        acl.resource.patternType = patternType;
        acl.type = permission;
        acl.operations = List.of(operations);
        return acl;
    }

    static AclBinding binding(ResourceType type, String name, PatternType pattern, AclOperation op, AclPermissionType permission) {
        return new AclBinding(new ResourcePattern(type, name, pattern), new AccessControlEntry("User:alice", "*", op, permission));
    }

    @Test
    void eachOperationOfEachRuleIsOneKafkaAclOfTheUsersPrincipal() {
        Set<AclBinding> bindings = AclRules.bindings("alice", List.of(
                acl("topic", "orders", "literal", "allow", "Read", "Describe"),
                acl("group", "billing-", "prefix", "allow", "Read"),
                acl("cluster", null, "literal", "deny", "AlterConfigs"),
                acl("transactionalId", "tx", "literal", "allow", "Write", "DescribeConfigs", "IdempotentWrite")));
        assertThat(bindings).containsExactlyInAnyOrder(
                binding(ResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.READ, AclPermissionType.ALLOW),
                binding(ResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.DESCRIBE, AclPermissionType.ALLOW),
                binding(ResourceType.GROUP, "billing-", PatternType.PREFIXED, AclOperation.READ, AclPermissionType.ALLOW),
                binding(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL, AclOperation.ALTER_CONFIGS, AclPermissionType.DENY),
                binding(ResourceType.TRANSACTIONAL_ID, "tx", PatternType.LITERAL, AclOperation.WRITE, AclPermissionType.ALLOW),
                binding(ResourceType.TRANSACTIONAL_ID, "tx", PatternType.LITERAL, AclOperation.DESCRIBE_CONFIGS, AclPermissionType.ALLOW),
                binding(ResourceType.TRANSACTIONAL_ID, "tx", PatternType.LITERAL, AclOperation.IDEMPOTENT_WRITE, AclPermissionType.ALLOW));
        assertThat(AclRules.bindings("alice", null)).isEmpty();
    }

    @Test
    void theDiffCreatesWhatIsMissingAndDeletesWhatIsNoLongerAsked() {
        AclBinding read = binding(ResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.READ, AclPermissionType.ALLOW);
        AclBinding write = binding(ResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.WRITE, AclPermissionType.ALLOW);
        AclBinding describe = binding(ResourceType.TOPIC, "orders", PatternType.LITERAL, AclOperation.DESCRIBE, AclPermissionType.ALLOW);
        AclRules.Changes changes = AclRules.diff(Set.of(read, write), List.of(write, describe));
        assertThat(changes.create()).containsExactly(read);
        assertThat(changes.delete()).containsExactly(describe);
        assertThat(AclRules.diff(Set.of(read), List.of(read)).none()).isTrue();
    }

    @Test
    void anUnknownOperationIsNamed() {
        assertThatThrownBy(() -> AclRules.operation("Fly")).hasMessageContaining("Fly");
    }
}
