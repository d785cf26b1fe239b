package io.capstan.broker.kafka;

import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.replica.Replication;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.message.DescribeProducersRequestData;
import org.apache.kafka.common.message.DescribeProducersResponseData;
import org.apache.kafka.common.message.DescribeProducersResponseData.PartitionResponse;
import org.apache.kafka.common.message.DescribeProducersResponseData.ProducerState;
import org.apache.kafka.common.message.DescribeProducersResponseData.TopicResponse;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;

/**
 * DescribeProducers (KIP-664, {@code kafka-transactions describe-producers}): the producers each asked partition's
 * leader keeps state for, with their epoch, last sequence, last timestamp, the coordinator epoch of their last
 * transaction marker and where their open transaction began (-1: none). Needs READ on the topic, as in Kafka.
 */
public final class DescribeProducersHandler implements ApiHandler {
    private final LogManager logs;
    private final Replication replication;

    public DescribeProducersHandler(LogManager logs, Replication replication) {
        this.logs = logs;
        this.replication = replication;
    }

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        DescribeProducersRequestData request = (DescribeProducersRequestData) message;
        DescribeProducersResponseData response = new DescribeProducersResponseData();
        for (DescribeProducersRequestData.TopicRequest topic : request.topics()) {
            TopicResponse t = new TopicResponse().setName(topic.name());
            response.topics().add(t);
            boolean authorized = context.allowedOnTopic(AclOperation.READ, topic.name());
            for (int index : topic.partitionIndexes()) {
                PartitionResponse p = new PartitionResponse().setPartitionIndex(index);
                t.partitions().add(p);
                Shard shard = logs.catalog().shard(new TopicPartition(topic.name(), index));
                Errors notLeading = shard == null ? Errors.NONE : replication.canServeConsumers(shard);
                if (!authorized) {
                    p.setErrorCode(Errors.TOPIC_AUTHORIZATION_FAILED.code()).setErrorMessage(context.principal()
                            + " may not READ topic " + topic.name() + "; ask an administrator for an ACL");
                } else if (shard == null) {
                    p.setErrorCode(Errors.UNKNOWN_TOPIC_OR_PARTITION.code());
                } else if (notLeading != Errors.NONE) {
                    p.setErrorCode(notLeading.code()).setErrorMessage("this broker does not lead " + shard
                            + "; ask its leader (the admin client does after a metadata refresh)");
                } else {
                    for (LogManager.ActiveProducer producer : logs.activeProducers(shard)) {
                        p.activeProducers().add(new ProducerState().setProducerId(producer.producerId()).setProducerEpoch(producer.epoch())
                                .setLastSequence(producer.lastSequence()).setLastTimestamp(producer.lastTimestamp())
                                .setCoordinatorEpoch(producer.coordinatorEpoch()).setCurrentTxnStartOffset(producer.currentTxnStartOffset()));
                    }
                }
            }
        }
        return CompletableFuture.completedFuture(response);
    }
}
