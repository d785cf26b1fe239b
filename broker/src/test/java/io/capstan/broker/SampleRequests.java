package io.capstan.broker;

import java.util.List;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ApiVersionsRequestData;
import org.apache.kafka.common.message.ApiVersionsResponseData;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.DeleteGroupsRequestData;
import org.apache.kafka.common.message.DeleteTopicsRequestData;
import org.apache.kafka.common.message.DescribeClusterRequestData;
import org.apache.kafka.common.message.DescribeConfigsRequestData;
import org.apache.kafka.common.message.DescribeGroupsRequestData;
import org.apache.kafka.common.message.FetchRequestData;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.InitProducerIdRequestData;
import org.apache.kafka.common.message.JoinGroupRequestData;
import org.apache.kafka.common.message.LeaveGroupRequestData;
import org.apache.kafka.common.message.ListGroupsRequestData;
import org.apache.kafka.common.message.ListOffsetsRequestData;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.OffsetCommitRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.ProduceRequestData;
import org.apache.kafka.common.message.SyncGroupRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * One valid request of every API at every version the broker advertises, for a broker holding topic "t" (created by
 * {@link IdempotentProduceTest#createTopic}): what the version sweep sends, and the fuzzer's seeds.
 */
final class SampleRequests {
    private SampleRequests() {}

    static ApiMessage request(ApiKeys api, short version, Uuid topicId) {
        boolean ids = version >= 13;
        return switch (api) {
            case API_VERSIONS -> new ApiVersionsRequestData().setClientSoftwareName("sweep").setClientSoftwareVersion("1");
            case METADATA -> new MetadataRequestData().setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName("t")));
            case PRODUCE -> {
                ProduceRequestData r = new ProduceRequestData().setAcks((short) -1).setTimeoutMs(5000);
                ProduceRequestData.TopicProduceData t = new ProduceRequestData.TopicProduceData();
                if (ids) {
                    t.setTopicId(topicId).setName("");
                } else {
                    t.setName("t");
                }
                t.partitionData().add(new ProduceRequestData.PartitionProduceData().setIndex(0).setRecords(Batches.plain("v" + version)));
                r.topicData().add(t);
                yield r;
            }
            case FETCH -> {
                FetchRequestData r = new FetchRequestData().setReplicaId(-1).setMaxWaitMs(0).setMinBytes(0).setMaxBytes(1 << 20);
                FetchRequestData.FetchTopic t = ids ? new FetchRequestData.FetchTopic().setTopicId(topicId)
                        : new FetchRequestData.FetchTopic().setTopic("t");
                t.partitions().add(new FetchRequestData.FetchPartition().setPartition(0).setFetchOffset(0).setPartitionMaxBytes(1 << 20));
                r.topics().add(t);
                yield r;
            }
            case LIST_OFFSETS -> {
                ListOffsetsRequestData r = new ListOffsetsRequestData().setReplicaId(-1);
                r.topics().add(new ListOffsetsRequestData.ListOffsetsTopic().setName("t").setPartitions(List.of(
                        new ListOffsetsRequestData.ListOffsetsPartition().setPartitionIndex(0).setTimestamp(-2))));
                yield r;
            }
            case ALTER_PARTITION_REASSIGNMENTS -> {
                var r = new org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData().setTimeoutMs(5000);
                var t = new org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignableTopic().setName("t");
                t.partitions().add(new org.apache.kafka.common.message.AlterPartitionReassignmentsRequestData.ReassignablePartition()
                        .setPartitionIndex(0).setReplicas(java.util.List.of(0)));
                r.topics().add(t);
                yield r;
            }
            case LIST_PARTITION_REASSIGNMENTS -> new org.apache.kafka.common.message.ListPartitionReassignmentsRequestData()
                    .setTimeoutMs(5000).setTopics(null);
            case UPDATE_FEATURES -> {
                org.apache.kafka.common.message.UpdateFeaturesRequestData r = new org.apache.kafka.common.message.UpdateFeaturesRequestData();
                // a level the sweep's fresh cluster is already past: answered with a refusal, nothing changes
                r.featureUpdates().add(new org.apache.kafka.common.message.UpdateFeaturesRequestData.FeatureUpdateKey()
                        .setFeature("capstan.version").setMaxVersionLevel((short) 1));
                yield r;
            }
            case ELECT_LEADERS -> new org.apache.kafka.common.message.ElectLeadersRequestData().setElectionType((byte) 0)
                    .setTimeoutMs(5000).setTopicPartitions(null);
            case OFFSET_FOR_LEADER_EPOCH -> {
                org.apache.kafka.common.message.OffsetForLeaderEpochRequestData r = new org.apache.kafka.common.message.OffsetForLeaderEpochRequestData();
                org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic t =
                        new org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderTopic().setTopic("t");
                t.partitions().add(new org.apache.kafka.common.message.OffsetForLeaderEpochRequestData.OffsetForLeaderPartition()
                        .setPartition(0).setLeaderEpoch(0));
                r.topics().add(t);
                yield r;
            }
            case CREATE_TOPICS -> {
                CreateTopicsRequestData r = new CreateTopicsRequestData().setTimeoutMs(5000);
                r.topics().add(new CreateTopicsRequestData.CreatableTopic().setName("c" + version).setNumPartitions(1).setReplicationFactor((short) 1));
                yield r;
            }
            case DELETE_TOPICS -> version >= 6
                    ? new DeleteTopicsRequestData().setTimeoutMs(5000).setTopics(List.of(new DeleteTopicsRequestData.DeleteTopicState().setName("c" + version)))
                    : new DeleteTopicsRequestData().setTimeoutMs(5000).setTopicNames(List.of("c" + version));
            case INIT_PRODUCER_ID -> new InitProducerIdRequestData().setTransactionalId(null).setTransactionTimeoutMs(1000);
            case DESCRIBE_CONFIGS -> new DescribeConfigsRequestData().setResources(List.of(
                    new DescribeConfigsRequestData.DescribeConfigsResource().setResourceType((byte) 2).setResourceName("t")));
            case DESCRIBE_LOG_DIRS -> new org.apache.kafka.common.message.DescribeLogDirsRequestData().setTopics(null);
            case DESCRIBE_PRODUCERS -> {
                var topics = new org.apache.kafka.common.message.DescribeProducersRequestData.TopicRequestCollection();
                topics.add(new org.apache.kafka.common.message.DescribeProducersRequestData.TopicRequest().setName("t").setPartitionIndexes(List.of(0)));
                yield new org.apache.kafka.common.message.DescribeProducersRequestData().setTopics(topics);
            }
            case WRITE_TXN_MARKERS -> new org.apache.kafka.common.message.WriteTxnMarkersRequestData().setMarkers(List.of(
                    new org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarker().setProducerId(1).setProducerEpoch((short) 0)
                            .setTransactionResult(false).setCoordinatorEpoch(0).setTopics(List.of(
                                    new org.apache.kafka.common.message.WriteTxnMarkersRequestData.WritableTxnMarkerTopic().setName("t")
                                            .setPartitionIndexes(List.of(0))))));
            case DESCRIBE_TOPIC_PARTITIONS -> new org.apache.kafka.common.message.DescribeTopicPartitionsRequestData()
                    .setTopics(List.of(new org.apache.kafka.common.message.DescribeTopicPartitionsRequestData.TopicRequest().setName("t")))
                    .setResponsePartitionLimit(100);
            case OFFSET_DELETE -> {
                var r = new org.apache.kafka.common.message.OffsetDeleteRequestData().setGroupId("sweep-commit");
                var topic = new org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestTopic().setName("t");
                topic.partitions().add(new org.apache.kafka.common.message.OffsetDeleteRequestData.OffsetDeleteRequestPartition().setPartitionIndex(0));
                r.topics().add(topic);
                yield r;
            }
            case DELETE_RECORDS -> {
                var r = new org.apache.kafka.common.message.DeleteRecordsRequestData().setTimeoutMs(5000);
                var topic = new org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsTopic().setName("t");
                topic.partitions().add(new org.apache.kafka.common.message.DeleteRecordsRequestData.DeleteRecordsPartition()
                        .setPartitionIndex(0).setOffset(0));
                r.topics().add(topic);
                yield r;
            }
            case CREATE_PARTITIONS -> {
                var r = new org.apache.kafka.common.message.CreatePartitionsRequestData().setTimeoutMs(5000);
                r.topics().add(new org.apache.kafka.common.message.CreatePartitionsRequestData.CreatePartitionsTopic()
                        .setName("t").setCount(1).setAssignments(null)); // already 1: refused, so the fuzzer's topic keeps its shape
                yield r;
            }
            case INCREMENTAL_ALTER_CONFIGS -> {
                var r = new org.apache.kafka.common.message.IncrementalAlterConfigsRequestData();
                var resource = new org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterConfigsResource()
                        .setResourceType((byte) 2).setResourceName("t");
                resource.configs().add(new org.apache.kafka.common.message.IncrementalAlterConfigsRequestData.AlterableConfig()
                        .setName("retention.ms").setConfigOperation((byte) 0).setValue("604800000"));
                r.resources().add(resource);
                yield r;
            }
            case ALTER_CONFIGS -> {
                var r = new org.apache.kafka.common.message.AlterConfigsRequestData();
                var resource = new org.apache.kafka.common.message.AlterConfigsRequestData.AlterConfigsResource()
                        .setResourceType((byte) 2).setResourceName("t");
                resource.configs().add(new org.apache.kafka.common.message.AlterConfigsRequestData.AlterableConfig()
                        .setName("retention.ms").setValue("604800000"));
                r.resources().add(resource);
                yield r;
            }
            case DESCRIBE_CLUSTER -> new DescribeClusterRequestData();
            case FIND_COORDINATOR -> version >= 4
                    ? new FindCoordinatorRequestData().setKeyType((byte) 0).setCoordinatorKeys(List.of("sweep"))
                    : new FindCoordinatorRequestData().setKeyType((byte) 0).setKey("sweep");
            case JOIN_GROUP -> {
                JoinGroupRequestData.JoinGroupRequestProtocolCollection protocols = new JoinGroupRequestData.JoinGroupRequestProtocolCollection();
                protocols.add(new JoinGroupRequestData.JoinGroupRequestProtocol().setName("range").setMetadata(new byte[] {0, 1}));
                yield new JoinGroupRequestData().setGroupId("sweep-" + version).setSessionTimeoutMs(10_000)
                        .setRebalanceTimeoutMs(10_000).setMemberId("").setProtocolType("consumer").setProtocols(protocols);
            }
            case SYNC_GROUP -> new SyncGroupRequestData().setGroupId("sweep-none").setGenerationId(1).setMemberId("m");
            case HEARTBEAT -> new HeartbeatRequestData().setGroupId("sweep-none").setGenerationId(1).setMemberId("m");
            case LEAVE_GROUP -> version >= 3
                    ? new LeaveGroupRequestData().setGroupId("sweep-none").setMembers(List.of(new LeaveGroupRequestData.MemberIdentity().setMemberId("m")))
                    : new LeaveGroupRequestData().setGroupId("sweep-none").setMemberId("m");
            case OFFSET_COMMIT -> {
                OffsetCommitRequestData.OffsetCommitRequestTopic t = new OffsetCommitRequestData.OffsetCommitRequestTopic();
                if (version >= 10) {
                    t.setTopicId(topicId).setName("");
                } else {
                    t.setName("t");
                }
                t.partitions().add(new OffsetCommitRequestData.OffsetCommitRequestPartition().setPartitionIndex(0).setCommittedOffset(1));
                yield new OffsetCommitRequestData().setGroupId("sweep-commit").setGenerationIdOrMemberEpoch(-1).setMemberId("")
                        .setTopics(List.of(t));
            }
            case OFFSET_FETCH -> version >= 8
                    ? new OffsetFetchRequestData().setGroups(List.of(new OffsetFetchRequestData.OffsetFetchRequestGroup()
                            .setGroupId("sweep-commit").setTopics(List.of(version >= 10
                                    ? new OffsetFetchRequestData.OffsetFetchRequestTopics().setTopicId(topicId).setName("").setPartitionIndexes(List.of(0))
                                    : new OffsetFetchRequestData.OffsetFetchRequestTopics().setName("t").setPartitionIndexes(List.of(0))))))
                    : new OffsetFetchRequestData().setGroupId("sweep-commit").setTopics(List.of(
                            new OffsetFetchRequestData.OffsetFetchRequestTopic().setName("t").setPartitionIndexes(List.of(0))));
            case CONSUMER_GROUP_HEARTBEAT -> new org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData()
                    .setGroupId("sweep-consumer-" + version).setMemberId(org.apache.kafka.common.Uuid.randomUuid().toString())
                    .setMemberEpoch(0).setRebalanceTimeoutMs(10_000).setSubscribedTopicNames(List.of("t")).setTopicPartitions(List.of());
            case CONSUMER_GROUP_DESCRIBE -> new org.apache.kafka.common.message.ConsumerGroupDescribeRequestData()
                    .setGroupIds(List.of("sweep-consumer-" + version, "sweep-none"));
            case LIST_GROUPS -> new ListGroupsRequestData();
            case DESCRIBE_GROUPS -> new DescribeGroupsRequestData().setGroups(List.of("sweep-commit", "sweep-none"));
            case DELETE_GROUPS -> new DeleteGroupsRequestData().setGroupsNames(List.of("sweep-missing"));
            case SASL_HANDSHAKE -> new org.apache.kafka.common.message.SaslHandshakeRequestData().setMechanism("PLAIN");
            case SASL_AUTHENTICATE -> new org.apache.kafka.common.message.SaslAuthenticateRequestData().setAuthBytes(new byte[0]);
            case DESCRIBE_USER_SCRAM_CREDENTIALS -> new org.apache.kafka.common.message.DescribeUserScramCredentialsRequestData();
            case ALTER_USER_SCRAM_CREDENTIALS -> new org.apache.kafka.common.message.AlterUserScramCredentialsRequestData();
            case DESCRIBE_CLIENT_QUOTAS -> new org.apache.kafka.common.message.DescribeClientQuotasRequestData();
            case ALTER_CLIENT_QUOTAS -> {
                var entry = new org.apache.kafka.common.message.AlterClientQuotasRequestData.EntryData();
                entry.entity().add(new org.apache.kafka.common.message.AlterClientQuotasRequestData.EntityData().setEntityType("client-id").setEntityName("sample"));
                entry.ops().add(new org.apache.kafka.common.message.AlterClientQuotasRequestData.OpData().setKey("producer_byte_rate").setValue(1e9));
                var data = new org.apache.kafka.common.message.AlterClientQuotasRequestData();
                data.entries().add(entry);
                yield data;
            }
            case CREATE_ACLS -> new org.apache.kafka.common.message.CreateAclsRequestData();
            case DESCRIBE_ACLS -> new org.apache.kafka.common.message.DescribeAclsRequestData().setResourceTypeFilter((byte) 1)
                    .setPatternTypeFilter((byte) 3).setOperation((byte) 1).setPermissionType((byte) 1);
            case DELETE_ACLS -> new org.apache.kafka.common.message.DeleteAclsRequestData();
            case ADD_PARTITIONS_TO_TXN -> {
                var topics = new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopicCollection();
                topics.add(new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTopic().setName("t").setPartitions(List.of(0)));
                if (version >= 4) { // as brokers send it: batched, here the leader's verification question
                    var txns = new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransactionCollection();
                    txns.add(new org.apache.kafka.common.message.AddPartitionsToTxnRequestData.AddPartitionsToTxnTransaction()
                            .setTransactionalId("sample").setProducerId(1).setProducerEpoch((short) 0).setVerifyOnly(true).setTopics(topics));
                    yield new org.apache.kafka.common.message.AddPartitionsToTxnRequestData().setTransactions(txns);
                }
                yield new org.apache.kafka.common.message.AddPartitionsToTxnRequestData().setV3AndBelowTransactionalId("sample")
                        .setV3AndBelowProducerId(1).setV3AndBelowProducerEpoch((short) 0).setV3AndBelowTopics(topics);
            }
            case ADD_OFFSETS_TO_TXN -> new org.apache.kafka.common.message.AddOffsetsToTxnRequestData().setTransactionalId("sample")
                    .setProducerId(1).setProducerEpoch((short) 0).setGroupId("g");
            case END_TXN -> new org.apache.kafka.common.message.EndTxnRequestData().setTransactionalId("sample").setProducerId(1)
                    .setProducerEpoch((short) 0).setCommitted(false);
            case TXN_OFFSET_COMMIT -> new org.apache.kafka.common.message.TxnOffsetCommitRequestData().setTransactionalId("sample")
                    .setGroupId("g").setProducerId(1).setProducerEpoch((short) 0).setTopics(List.of(
                            new org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestTopic().setName("t")
                                    .setPartitions(List.of(new org.apache.kafka.common.message.TxnOffsetCommitRequestData.TxnOffsetCommitRequestPartition()
                                            .setPartitionIndex(0).setCommittedOffset(0)))));
            case DESCRIBE_TRANSACTIONS -> new org.apache.kafka.common.message.DescribeTransactionsRequestData().setTransactionalIds(List.of("sample"));
            case LIST_TRANSACTIONS -> new org.apache.kafka.common.message.ListTransactionsRequestData();
            default -> throw new AssertionError("no sample request for " + api + "; add one when registering the API");
        };
    }
}
