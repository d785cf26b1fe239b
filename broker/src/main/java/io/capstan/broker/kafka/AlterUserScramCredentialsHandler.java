package io.capstan.broker.kafka;

import io.capstan.broker.security.ScramCredentialStore;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AlterUserScramCredentialsRequestData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData;
import org.apache.kafka.common.message.AlterUserScramCredentialsResponseData.AlterUserScramCredentialsResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/**
 * AlterUserScramCredentials, as Kafka's {@code kafka-configs --alter --add-config SCRAM-SHA-512=[...]} and
 * AdminClient send it: the client salts and hashes the password, the broker keeps only the derived keys. Needs ALTER
 * on the cluster. Validation and error codes follow Kafka: iterations within the mechanism's bounds, no user both
 * upserted and deleted for one mechanism, no deleting what does not exist; one result per user.
 */
public final class AlterUserScramCredentialsHandler implements ApiHandler {
    private final ScramCredentialStore store;

    public AlterUserScramCredentialsHandler(ScramCredentialStore store) {
        this.store = store;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        AlterUserScramCredentialsRequestData request = (AlterUserScramCredentialsRequestData) message;
        Map<String, Errors> errors = new LinkedHashMap<>();
        Map<String, String> messages = new LinkedHashMap<>();
        request.deletions().forEach(d -> errors.putIfAbsent(d.name(), Errors.NONE));
        request.upsertions().forEach(u -> errors.putIfAbsent(u.name(), Errors.NONE));
        boolean allowed = context.allowedOnCluster(AclOperation.ALTER);
        if (!allowed) {
            errors.replaceAll((user, e) -> Errors.CLUSTER_AUTHORIZATION_FAILED);
        } else {
            validate(request, errors, messages);
            apply(request, errors, messages);
        }
        AlterUserScramCredentialsResponseData response = new AlterUserScramCredentialsResponseData();
        errors.forEach((user, error) -> response.results().add(new AlterUserScramCredentialsResult().setUser(user)
                .setErrorCode(error.code()).setErrorMessage(error == Errors.NONE ? null : messages.getOrDefault(user, error.message()))));
        return CompletableFuture.completedFuture(response);
    }

    private static void validate(AlterUserScramCredentialsRequestData request, Map<String, Errors> errors, Map<String, String> messages) {
        Set<String> seen = new HashSet<>();
        for (var d : request.deletions()) {
            check(errors, messages, d.name(), d.mechanism(), seen);
        }
        for (var u : request.upsertions()) {
            if (check(errors, messages, u.name(), u.mechanism(), seen)) {
                ScramMechanism m = mechanism(u.mechanism());
                if (u.iterations() < m.minIterations() || u.iterations() > m.maxIterations()) {
                    fail(errors, messages, u.name(), Errors.UNACCEPTABLE_CREDENTIAL, (u.iterations() < m.minIterations() ? "Too few" : "Too many")
                            + " iterations: " + m.mechanismName() + " takes " + m.minIterations() + " to " + m.maxIterations());
                } else if (u.salt().length == 0 || u.saltedPassword().length == 0) {
                    fail(errors, messages, u.name(), Errors.UNACCEPTABLE_CREDENTIAL, "salt and salted password must not be empty");
                }
            }
        }
    }

    /** False when the entry is already refused; the same user and mechanism twice in one request is a DUPLICATE_RESOURCE. */
    private static boolean check(Map<String, Errors> errors, Map<String, String> messages, String user, byte type, Set<String> seen) {
        if (user.isEmpty()) {
            fail(errors, messages, user, Errors.UNACCEPTABLE_CREDENTIAL, "Username must not be empty");
            return false;
        }
        if (mechanism(type) == null) {
            fail(errors, messages, user, Errors.UNSUPPORTED_SASL_MECHANISM, "Unknown SCRAM mechanism type " + type);
            return false;
        }
        if (!seen.add(user + "\u0000" + type)) {
            fail(errors, messages, user, Errors.DUPLICATE_RESOURCE, "A user credential cannot be altered twice in the same request");
            return false;
        }
        return errors.get(user) == Errors.NONE;
    }

    private void apply(AlterUserScramCredentialsRequestData request, Map<String, Errors> errors, Map<String, String> messages) {
        for (var d : request.deletions()) {
            if (errors.get(d.name()) == Errors.NONE && !store.delete(d.name(), mechanism(d.mechanism()))) {
                fail(errors, messages, d.name(), Errors.RESOURCE_NOT_FOUND, "Attempt to delete a user credential that does not exist");
            }
        }
        for (var u : request.upsertions()) {
            if (errors.get(u.name()) == Errors.NONE) {
                store.upsert(u.name(), mechanism(u.mechanism()), u.salt(), u.saltedPassword(), u.iterations());
            }
        }
    }

    private static void fail(Map<String, Errors> errors, Map<String, String> messages, String user, Errors error, String message) {
        if (errors.get(user) == Errors.NONE) {
            errors.put(user, error);
            messages.put(user, message);
        }
    }

    static ScramMechanism mechanism(byte type) {
        for (ScramMechanism m : ScramMechanism.values()) {
            if (m.type() == type) {
                return m;
            }
        }
        return null;
    }
}
