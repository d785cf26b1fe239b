package io.capstan.cli;

import io.capstan.broker.security.ScramCredentialStore;
import io.capstan.cluster.metadata.LocalFileMetadataStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialDeletion;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.apache.kafka.clients.admin.UserScramCredentialsDescription;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * SCRAM users. Online through Kafka's AlterUserScramCredentials (any Kafka-compatible broker, needs ALTER on the
 * cluster); offline into a stopped broker's or local cluster's metadata store, to create the first administrator
 * (as Kafka's {@code kafka-storage format --add-scram} does).
 */
@Command(name = "user", mixinStandardHelpOptions = true, description = "Create, list and delete SCRAM users.",
        subcommands = {UserCommand.Create.class, UserCommand.ListUsers.class, UserCommand.Delete.class})
final class UserCommand {

    /** Where the change goes: a broker over the Kafka protocol, or a metadata store on disk. */
    static final class Target {
        @Option(names = "--data-dir", description = "Write into the store of a single broker's data directory (offline, before it starts).")
        Path dataDir;

        @Option(names = "--metadata-dir", description = "Write into a local cluster's metadata directory (offline; capstan cluster up uses ./cluster/metadata).")
        Path metadataDir;

        Path store() {
            return dataDir != null ? dataDir.resolve(io.capstan.config.BrokerConfig.EMBEDDED_METADATA_DIR) : metadataDir;
        }
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a user or change its password.")
    static final class Create implements Callable<Integer> {
        @Mixin ClientOptions client;
        @ArgGroup(exclusive = true) Target offline;
        @Parameters(index = "0", description = "User name.") String name;
        @Option(names = "--new-password", description = "The user's password (or env CAPSTAN_NEW_PASSWORD).",
                defaultValue = "${env:CAPSTAN_NEW_PASSWORD}") String newPassword;
        @Option(names = "--mechanism", defaultValue = "SCRAM-SHA-512", description = "SCRAM-SHA-512 or SCRAM-SHA-256 (default ${DEFAULT-VALUE}).") String mechanism;
        @Option(names = "--iterations", defaultValue = "8192", description = "PBKDF2 iterations, 4096..16384 (default ${DEFAULT-VALUE}).") int iterations;

        @Override
        public Integer call() throws Exception {
            if (newPassword == null || newPassword.isEmpty()) {
                throw new IllegalArgumentException("give the user's password with --new-password or env CAPSTAN_NEW_PASSWORD");
            }
            ScramMechanism m = ScramMechanism.fromMechanismName(mechanism.toUpperCase(Locale.ROOT));
            if (m == ScramMechanism.UNKNOWN) {
                throw new IllegalArgumentException("--mechanism must be SCRAM-SHA-512 or SCRAM-SHA-256, got " + mechanism);
            }
            if (offline != null) {
                try (LocalFileMetadataStore store = new LocalFileMetadataStore(offline.store(), 1000);
                     ScramCredentialStore users = new ScramCredentialStore(store)) {
                    users.upsertPassword(name, org.apache.kafka.common.security.scram.internals.ScramMechanism.forMechanismName(m.mechanismName()),
                            newPassword, iterations);
                }
            } else {
                try (Admin admin = Admin.create(client.props())) {
                    admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(name, new ScramCredentialInfo(m, iterations), newPassword)))
                            .all().get();
                }
            }
            System.out.println("user " + name + " can log in with " + m.mechanismName());
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List SCRAM users and their mechanisms.")
    static final class ListUsers implements Callable<Integer> {
        @Mixin ClientOptions client;

        @Override
        public Integer call() throws Exception {
            try (Admin admin = Admin.create(client.props())) {
                Map<String, UserScramCredentialsDescription> users = admin.describeUserScramCredentials().all().get();
                new java.util.TreeMap<>(users).forEach((user, d) -> System.out.println(user + "\t" + String.join(",",
                        d.credentialInfos().stream().map(i -> i.mechanism().mechanismName() + "(" + i.iterations() + ")").toList())));
            }
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true, description = "Remove a user's SCRAM credential.")
    static final class Delete implements Callable<Integer> {
        @Mixin ClientOptions client;
        @Parameters(index = "0", description = "User name.") String name;
        @Option(names = "--mechanism", defaultValue = "SCRAM-SHA-512", description = "Which credential (default ${DEFAULT-VALUE}).") String mechanism;

        @Override
        public Integer call() throws Exception {
            ScramMechanism m = ScramMechanism.fromMechanismName(mechanism.toUpperCase(Locale.ROOT));
            try (Admin admin = Admin.create(client.props())) {
                admin.alterUserScramCredentials(List.of(new UserScramCredentialDeletion(name, m))).all().get();
            }
            System.out.println("removed " + m.mechanismName() + " credential of " + name + "; open sessions end at their next re-authentication");
            return 0;
        }
    }
}
