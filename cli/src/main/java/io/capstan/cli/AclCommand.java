package io.capstan.cli;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AccessControlEntryFilter;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclBindingFilter;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourcePatternFilter;
import org.apache.kafka.common.resource.ResourceType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** Kafka ACLs through the AdminClient (CreateAcls, DescribeAcls, DeleteAcls), with kafka-acls' vocabulary. */
@Command(name = "acl", mixinStandardHelpOptions = true, description = "Create, list and delete ACLs.",
        subcommands = {AclCommand.Create.class, AclCommand.ListAcls.class, AclCommand.Delete.class})
final class AclCommand {

    /** Which resource: one of --topic, --group, --cluster, --transactional-id; --prefixed for a name prefix. */
    static final class Resource {
        @Option(names = "--topic", description = "Topic name (or prefix with --prefixed; * for every topic).") String topic;
        @Option(names = "--group", description = "Consumer group id (or prefix).") String group;
        @Option(names = "--cluster", description = "The cluster resource.") boolean cluster;
        @Option(names = "--transactional-id", description = "Transactional id (or prefix).") String transactionalId;
        @Option(names = "--prefixed", description = "The name is a prefix.") boolean prefixed;

        ResourcePattern pattern() {
            ResourcePatternFilter f = filter();
            if (f.resourceType() == ResourceType.ANY) {
                throw new IllegalArgumentException("name the resource: --topic, --group, --cluster or --transactional-id");
            }
            return new ResourcePattern(f.resourceType(), f.name(), f.patternType());
        }

        ResourcePatternFilter filter() {
            PatternType pattern = prefixed ? PatternType.PREFIXED : PatternType.LITERAL;
            int given = (topic != null ? 1 : 0) + (group != null ? 1 : 0) + (cluster ? 1 : 0) + (transactionalId != null ? 1 : 0);
            if (given > 1) {
                throw new IllegalArgumentException("name one resource per ACL");
            }
            if (topic != null) {
                return new ResourcePatternFilter(ResourceType.TOPIC, topic, pattern);
            }
            if (group != null) {
                return new ResourcePatternFilter(ResourceType.GROUP, group, pattern);
            }
            if (transactionalId != null) {
                return new ResourcePatternFilter(ResourceType.TRANSACTIONAL_ID, transactionalId, pattern);
            }
            if (cluster) {
                return new ResourcePatternFilter(ResourceType.CLUSTER, "kafka-cluster", PatternType.LITERAL);
            }
            return ResourcePatternFilter.ANY;
        }
    }

    static AclOperation operation(String name) {
        AclOperation op = AclOperation.fromString(name.toUpperCase(Locale.ROOT).replace('-', '_'));
        if (op == AclOperation.UNKNOWN || op == AclOperation.ANY) {
            throw new IllegalArgumentException("unknown operation " + name + "; use Read, Write, Create, Delete, Alter, Describe,"
                    + " ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite or All");
        }
        return op;
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Allow (or deny) principals operations on a resource.")
    static final class Create implements Callable<Integer> {
        @Mixin ClientOptions client;
        @Mixin Resource resource;
        @Option(names = "--principal", required = true, description = "Principal, e.g. User:alice or User:CN=alice (repeatable).") List<String> principals;
        @Option(names = "--operation", required = true, description = "Operation, e.g. Read, Write, Describe, All (repeatable).") List<String> operations;
        @Option(names = "--deny", description = "A DENY rule (default: ALLOW).") boolean deny;
        @Option(names = "--host", defaultValue = "*", description = "Client address the rule applies to (default ${DEFAULT-VALUE}).") String host;

        @Override
        public Integer call() throws Exception {
            List<AclBinding> acls = new ArrayList<>();
            for (String principal : principals) {
                for (String op : operations) {
                    acls.add(new AclBinding(resource.pattern(), new AccessControlEntry(principal, host, operation(op),
                            deny ? AclPermissionType.DENY : AclPermissionType.ALLOW)));
                }
            }
            try (Admin admin = Admin.create(client.props())) {
                admin.createAcls(acls).all().get();
            }
            acls.forEach(a -> System.out.println("created " + describe(a)));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List ACLs, optionally for one resource or principal.")
    static final class ListAcls implements Callable<Integer> {
        @Mixin ClientOptions client;
        @Mixin Resource resource;
        @Option(names = "--principal", description = "Only this principal's ACLs.") String principal;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props())) {
                Collection<AclBinding> acls = admin.describeAcls(new AclBindingFilter(resource.filter(),
                        new AccessControlEntryFilter(principal, null, AclOperation.ANY, AclPermissionType.ANY))).values().get();
                acls.stream().map(AclCommand::describe).sorted().forEach(System.out::println);
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Delete the ACLs matching a resource, principal and operation.")
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions client;
        @Mixin Resource resource;
        @Option(names = "--principal", description = "Only this principal's ACLs.") String principal;
        @Option(names = "--operation", description = "Only ACLs of this operation.") String operation;

        @Override
        public Integer call() throws Exception {
            if (resource.filter().resourceType() == ResourceType.ANY && principal == null) {
                throw new IllegalArgumentException("name a resource or --principal; deleting every ACL at once is not offered");
            }
            try (Admin admin = Admin.create(client.props())) {
                Collection<AclBinding> deleted = admin.deleteAcls(List.of(new AclBindingFilter(resource.filter(),
                        new AccessControlEntryFilter(principal, null, operation == null ? AclOperation.ANY : operation(operation),
                                AclPermissionType.ANY)))).all().get();
                deleted.forEach(a -> System.out.println("deleted " + describe(a)));
                if (deleted.isEmpty()) {
                    System.out.println("no ACL matched");
                }
            }
            return 0;
        }
    }

    static String describe(AclBinding a) {
        return a.entry().permissionType() + " " + a.entry().principal() + " " + a.entry().operation() + " on "
                + a.pattern().resourceType() + " " + a.pattern().name() + (a.pattern().patternType() == PatternType.PREFIXED ? "*" : "")
                + " from " + a.entry().host();
    }
}
