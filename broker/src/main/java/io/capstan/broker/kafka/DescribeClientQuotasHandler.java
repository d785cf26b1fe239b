package io.capstan.broker.kafka;

import io.capstan.broker.quota.ClientQuotaStore;
import io.capstan.broker.quota.QuotaEntity;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeClientQuotasRequestData;
import org.apache.kafka.common.message.DescribeClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeClientQuotas with Kafka's filter: per entity type an exact name, the default, or any name; strict means the
 * entity has no other part. Needs DESCRIBE_CONFIGS on the cluster. Read from the store itself, off the event loop.
 */
public final class DescribeClientQuotasHandler implements ApiHandler {
    private static final byte EXACT = 0;
    private static final byte DEFAULT = 1;
    private static final byte SPECIFIED = 2;

    private final ClientQuotaStore quotas;
    private final Executor reads;

    public DescribeClientQuotasHandler(ClientQuotaStore quotas, Executor reads) {
        this.quotas = quotas;
        this.reads = reads;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeClientQuotasRequestData request = (DescribeClientQuotasRequestData) message;
        if (!context.allowedOnCluster(AclOperation.DESCRIBE_CONFIGS)) {
            return CompletableFuture.completedFuture(new DescribeClientQuotasResponseData()
                    .setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()).setErrorMessage("describing quotas needs DESCRIBE_CONFIGS on the cluster"));
        }
        Map<String, String> exact = new HashMap<>();
        Set<String> specified = new HashSet<>();
        for (DescribeClientQuotasRequestData.ComponentData c : request.components()) {
            String type = c.entityType();
            if (!type.isEmpty() && !type.equals(QuotaEntity.USER) && !type.equals(QuotaEntity.CLIENT_ID) && !type.equals("ip")) {
                return refused(Errors.UNSUPPORTED_VERSION, "Unsupported entity type " + type); // Kafka's answer to an unknown type
            }
            String problem = type.isEmpty() ? "Invalid empty entity type."
                    : exact.containsKey(type) || specified.contains(type) ? "Entity type " + type + " cannot appear more than once in the filter."
                    : c.matchType() == EXACT && c.match() == null ? "Request specified MATCH_TYPE_EXACT, but set match string to null."
                    : c.matchType() != EXACT && c.match() != null ? "Request specified a match type other than MATCH_TYPE_EXACT, but also specified a match string."
                    : c.matchType() > SPECIFIED || c.matchType() < EXACT ? "Unknown match type " + c.matchType() : null;
            if (problem != null) {
                return refused(Errors.INVALID_REQUEST, problem);
            }
            if (c.matchType() == SPECIFIED) {
                specified.add(type);
            } else {
                exact.put(type, c.matchType() == DEFAULT ? null : c.match());
            }
        }
        return CompletableFuture.supplyAsync(() -> {
            DescribeClientQuotasResponseData response = new DescribeClientQuotasResponseData().setEntries(new java.util.ArrayList<>());
            quotas.describe().forEach((entity, values) -> {
                if (!matches(entity, exact, specified, request.strict())) {
                    return;
                }
                DescribeClientQuotasResponseData.EntryData entry = new DescribeClientQuotasResponseData.EntryData();
                for (String[] part : entity.parts()) {
                    entry.entity().add(new DescribeClientQuotasResponseData.EntityData().setEntityType(part[0]).setEntityName(part[1]));
                }
                values.forEach((k, v) -> entry.values().add(new DescribeClientQuotasResponseData.ValueData().setKey(k).setValue(v)));
                response.entries().add(entry);
            });
            return response;
        }, reads);
    }

    private static CompletionStage<ApiMessage> refused(Errors error, String message) {
        return CompletableFuture.completedFuture(new DescribeClientQuotasResponseData().setErrorCode(error.code()).setErrorMessage(message));
    }

    private static boolean matches(QuotaEntity entity, Map<String, String> exact, Set<String> specified, boolean strict) {
        Map<String, String> parts = new HashMap<>();
        for (String[] part : entity.parts()) {
            parts.put(part[0], part[1]);
        }
        if (strict && parts.size() != exact.size() + specified.size()) {
            return false;
        }
        for (Map.Entry<String, String> e : exact.entrySet()) {
            if (!parts.containsKey(e.getKey()) || !Objects.equals(parts.get(e.getKey()), e.getValue())) {
                return false;
            }
        }
        return parts.keySet().containsAll(specified);
    }
}
