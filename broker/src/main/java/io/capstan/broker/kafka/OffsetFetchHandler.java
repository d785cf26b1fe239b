package io.capstan.broker.kafka;

import io.capstan.broker.group.CommittedOffset;
import io.capstan.broker.group.GroupCoordinator;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.TopicMeta;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.message.OffsetFetchResponseData;
import org.apache.kafka.common.protocol.ApiMessage;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.acl.AclOperation;

/** OffsetFetch: committed offsets of one group (v0-7) or several (v8+); all of a group's when no topics are named. */
public final class OffsetFetchHandler implements ApiHandler {
    private static final int GROUPS_VERSION = 8;
    private static final int EPOCH_VERSION = 5;
    private static final int REQUIRE_STABLE_VERSION = 7;
    private static final int TOPIC_IDS_VERSION = 10;
    private final GroupCoordinator coordinator;
    private final LogManager logs;

    public OffsetFetchHandler(GroupCoordinator coordinator, LogManager logs) {
        this.coordinator = coordinator;
        this.logs = logs;
    }

    /** One requested topic: name or id, and partitions (null = all committed). */
    private record Wanted(String name, Uuid id, List<Integer> partitions) {}

    /** One answered partition, before it is shaped for the version. */
    private record Answer(int partition, CommittedOffset committed, Errors error) {}

    @Override
    public CompletionStage<ApiMessage> handle(RequestContext context, ApiMessage message) {
        OffsetFetchRequestData r = (OffsetFetchRequestData) message;
        short v = context.version();
        OffsetFetchResponseData response = new OffsetFetchResponseData();
        if (v >= GROUPS_VERSION) {
            for (OffsetFetchRequestData.OffsetFetchRequestGroup g : r.groups()) {
                List<Wanted> wanted = g.topics() == null ? null
                        : g.topics().stream().map(t -> new Wanted(t.name(), t.topicId(), t.partitionIndexes())).toList();
                OffsetFetchResponseData.OffsetFetchResponseGroup gr = new OffsetFetchResponseData.OffsetFetchResponseGroup().setGroupId(g.groupId());
                if (!context.allowedOnGroup(AclOperation.DESCRIBE, g.groupId())) {
                    response.groups().add(gr.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
                    continue;
                }
                Errors member = coordinator.fetchCheck(g.groupId(), g.memberId(), g.memberEpoch());
                if (member != Errors.NONE) {
                    response.groups().add(gr.setErrorCode(member.code())); // v9+: a consumer-protocol member with a stale epoch
                    continue;
                }
                answer(context, g.groupId(), wanted, v, r.requireStable()).forEach((topic, answers) -> {
                    OffsetFetchResponseData.OffsetFetchResponseTopics tr = new OffsetFetchResponseData.OffsetFetchResponseTopics()
                            .setName(v >= TOPIC_IDS_VERSION ? "" : topic.name()).setTopicId(v >= TOPIC_IDS_VERSION ? topic.id() : Uuid.ZERO_UUID);
                    answers.forEach(a -> tr.partitions().add(new OffsetFetchResponseData.OffsetFetchResponsePartitions()
                            .setPartitionIndex(a.partition()).setErrorCode(a.error().code())
                            .setCommittedOffset(a.committed() == null ? -1 : a.committed().offset())
                            .setCommittedLeaderEpoch(a.committed() == null ? -1 : a.committed().leaderEpoch())
                            .setMetadata(a.committed() == null || a.committed().metadata() == null ? "" : a.committed().metadata())));
                    gr.topics().add(tr);
                });
                response.groups().add(gr);
            }
        } else {
            List<Wanted> wanted = r.topics() == null ? null
                    : r.topics().stream().map(t -> new Wanted(t.name(), Uuid.ZERO_UUID, t.partitionIndexes())).toList();
            if (!context.allowedOnGroup(AclOperation.DESCRIBE, r.groupId())) {
                return CompletableFuture.completedFuture(response.setErrorCode(Errors.GROUP_AUTHORIZATION_FAILED.code()));
            }
            answer(context, r.groupId(), wanted, v, v >= REQUIRE_STABLE_VERSION && r.requireStable()).forEach((topic, answers) -> {
                OffsetFetchResponseData.OffsetFetchResponseTopic tr = new OffsetFetchResponseData.OffsetFetchResponseTopic().setName(topic.name());
                answers.forEach(a -> {
                    OffsetFetchResponseData.OffsetFetchResponsePartition p = new OffsetFetchResponseData.OffsetFetchResponsePartition()
                            .setPartitionIndex(a.partition()).setErrorCode(a.error().code())
                            .setCommittedOffset(a.committed() == null ? -1 : a.committed().offset())
                            .setMetadata(a.committed() == null || a.committed().metadata() == null ? "" : a.committed().metadata());
                    if (v >= EPOCH_VERSION) {
                        p.setCommittedLeaderEpoch(a.committed() == null ? -1 : a.committed().leaderEpoch());
                    }
                    tr.partitions().add(p);
                });
                response.topics().add(tr);
            });
        }
        return CompletableFuture.completedFuture(response);
    }

    /** A topic in the answer, carrying both name and id so either version shape can be built. */
    private record TopicKey(String name, Uuid id) implements Comparable<TopicKey> {
        @Override
        public int compareTo(TopicKey o) {
            return name.compareTo(o.name);
        }
    }

    /** {@code requireStable} (KIP-447): an offset an undecided transaction is about to replace is answered UNSTABLE_OFFSET_COMMIT. */
    private Map<TopicKey, List<Answer>> answer(RequestContext context, String group, List<Wanted> wanted, short version, boolean requireStable) {
        Map<TopicKey, List<Answer>> out = new TreeMap<>();
        if (wanted == null) {
            coordinator.committed(group).forEach((tp, c) -> {
                if (!context.allowedOnTopic(AclOperation.DESCRIBE, tp.topic())) {
                    return; // a topic the caller may not see is left out, as Kafka does
                }
                TopicMeta meta = logs.catalog().topic(tp.topic());
                out.computeIfAbsent(new TopicKey(tp.topic(), meta == null ? Uuid.ZERO_UUID : meta.id()), k -> new ArrayList<>())
                        .add(new Answer(tp.partition(), c, Errors.NONE));
            });
            return out;
        }
        for (Wanted w : wanted) {
            TopicMeta meta = version >= TOPIC_IDS_VERSION ? logs.catalog().topic(w.id()) : logs.catalog().topic(w.name());
            String name = meta != null ? meta.name() : w.name() == null ? "" : w.name();
            TopicKey key = new TopicKey(name, meta != null ? meta.id() : w.id());
            List<Answer> answers = out.computeIfAbsent(key, k -> new ArrayList<>());
            for (int p : w.partitions()) {
                Errors error = !name.isEmpty() && !context.allowedOnTopic(AclOperation.DESCRIBE, name) ? Errors.TOPIC_AUTHORIZATION_FAILED
                        : meta == null && version >= TOPIC_IDS_VERSION ? Errors.UNKNOWN_TOPIC_ID : Errors.NONE;
                if (error == Errors.NONE && requireStable && coordinator.unstable(group, new TopicPartition(name, p))) {
                    error = Errors.UNSTABLE_OFFSET_COMMIT;
                }
                answers.add(new Answer(p, error == Errors.NONE ? coordinator.committed(group, new TopicPartition(name, p)) : null, error));
            }
        }
        return out;
    }
}
