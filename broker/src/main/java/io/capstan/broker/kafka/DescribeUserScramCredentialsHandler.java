package io.capstan.broker.kafka;

import io.capstan.broker.security.ScramCredentialStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.CredentialInfo;
import org.apache.kafka.common.message.DescribeUserScramCredentialsResponseData.DescribeUserScramCredentialsResult;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.security.scram.internals.ScramMechanism;

/** DescribeUserScramCredentials: which users have which mechanisms and iterations (never keys). Needs DESCRIBE on the cluster. */
public final class DescribeUserScramCredentialsHandler implements ApiHandler {
    private final ScramCredentialStore store;

    public DescribeUserScramCredentialsHandler(ScramCredentialStore store) {
        this.store = store;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeUserScramCredentialsRequestData request = (DescribeUserScramCredentialsRequestData) message;
        DescribeUserScramCredentialsResponseData response = new DescribeUserScramCredentialsResponseData();
        if (!context.allowedOnCluster(AclOperation.DESCRIBE)) {
            return CompletableFuture.completedFuture(response.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code())
                    .setErrorMessage("describing SCRAM users needs DESCRIBE on the cluster"));
        }
        Map<String, Map<String, Integer>> users = store.describe();
        boolean all = request.users() == null || request.users().isEmpty();
        List<String> asked = all ? new ArrayList<>(users.keySet()) : request.users().stream().map(u -> u.name()).toList();
        Set<String> seen = new HashSet<>();
        Set<String> duplicated = new HashSet<>();
        asked.forEach(u -> {
            if (!seen.add(u)) {
                duplicated.add(u);
            }
        });
        Set<String> answered = new HashSet<>();
        for (String user : asked) {
            if (!answered.add(user)) {
                continue;
            }
            DescribeUserScramCredentialsResult result = new DescribeUserScramCredentialsResult().setUser(user);
            Map<String, Integer> mechanisms = users.get(user);
            if (duplicated.contains(user)) {
                result.setErrorCode(Errors.DUPLICATE_RESOURCE.code()).setErrorMessage("Cannot describe SCRAM credentials for the same user twice in a single request");
            } else if (mechanisms == null) {
                result.setErrorCode(Errors.RESOURCE_NOT_FOUND.code()).setErrorMessage("Attempt to describe a user credential that does not exist");
            } else {
                mechanisms.forEach((name, iterations) -> result.credentialInfos().add(new CredentialInfo()
                        .setMechanism(ScramMechanism.forMechanismName(name).type()).setIterations(iterations)));
            }
            response.results().add(result);
        }
        return CompletableFuture.completedFuture(response);
    }
}
