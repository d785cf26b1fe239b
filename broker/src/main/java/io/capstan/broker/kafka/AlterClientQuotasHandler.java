package io.capstan.broker.kafka;

import io.capstan.broker.quota.ClientQuotaStore;
import io.capstan.broker.quota.QuotaEntity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.AlterClientQuotasRequestData;
import org.apache.kafka.common.message.AlterClientQuotasResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * AlterClientQuotas, as {@code kafka-configs --alter --entity-type users|clients --add-config producer_byte_rate=...}
 * and AdminClient send it. Needs ALTER_CONFIGS on the cluster. Each entity is checked and written on its own (one
 * result each); validate-only checks and writes nothing. Writes go to the metadata store off the event loop.
 */
public final class AlterClientQuotasHandler implements ApiHandler {
    private final ClientQuotaStore quotas;
    private final Executor writes;

    public AlterClientQuotasHandler(ClientQuotaStore quotas, Executor writes) {
        this.quotas = quotas;
        this.writes = writes;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        AlterClientQuotasRequestData request = (AlterClientQuotasRequestData) message;
        boolean allowed = context.allowedOnCluster(AclOperation.ALTER_CONFIGS);
        return CompletableFuture.supplyAsync(() -> {
            AlterClientQuotasResponseData response = new AlterClientQuotasResponseData();
            for (AlterClientQuotasRequestData.EntryData entry : request.entries()) {
                AlterClientQuotasResponseData.EntryData result = new AlterClientQuotasResponseData.EntryData();
                for (AlterClientQuotasRequestData.EntityData e : entry.entity()) {
                    result.entity().add(new AlterClientQuotasResponseData.EntityData().setEntityType(e.entityType()).setEntityName(e.entityName()));
                }
                response.entries().add(result);
                if (!allowed) {
                    result.setErrorCode(Errors.CLUSTER_AUTHORIZATION_FAILED.code()).setErrorMessage("altering quotas needs ALTER_CONFIGS on the cluster");
                    continue;
                }
                try {
                    List<String[]> parts = new ArrayList<>();
                    entry.entity().forEach(e -> parts.add(new String[] {e.entityType(), e.entityName()}));
                    QuotaEntity entity = QuotaRequests.entity(parts);
                    Map<String, Double> changes = new LinkedHashMap<>();
                    for (AlterClientQuotasRequestData.OpData op : entry.ops()) {
                        if (changes.containsKey(op.key())) {
                            throw new QuotaRequests.Invalid("Duplicate quota key " + op.key() + " for " + entity);
                        }
                        if (!op.remove()) {
                            QuotaRequests.checkValue(op.key(), op.value());
                        }
                        changes.put(op.key(), op.remove() ? null : op.value());
                    }
                    if (!request.validateOnly()) {
                        quotas.alter(entity, changes);
                    }
                } catch (QuotaRequests.Invalid invalid) {
                    result.setErrorCode(Errors.INVALID_REQUEST.code()).setErrorMessage(invalid.getMessage());
                } catch (RuntimeException failed) {
                    result.setErrorCode(Errors.UNKNOWN_SERVER_ERROR.code())
                            .setErrorMessage("cannot write the quota to the metadata store: " + failed.getMessage() + "; retry");
                }
            }
            return response;
        }, writes);
    }
}
