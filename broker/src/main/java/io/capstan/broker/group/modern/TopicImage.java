package io.capstan.broker.group.modern;

import java.util.Collection;

/** The cluster's topics as the coordinator sees them now: what subscriptions resolve against. */
public interface TopicImage {
    /** No topics (a coordinator without a cluster view, in tests of the classic protocol). */
    TopicImage NONE = new TopicImage() {
        @Override
        public PartitionAssignor.Topic topic(String name) {
            return null;
        }

        @Override
        public Collection<String> names() {
            return java.util.List.of();
        }
    };

    /** The topic of that name, or null. */
    PartitionAssignor.Topic topic(String name);

    /** Every topic name, for regular-expression subscriptions. */
    Collection<String> names();

    /** The name of the topic with this id, or null. */
    default String nameOf(org.apache.kafka.common.Uuid id) {
        for (String name : names()) {
            PartitionAssignor.Topic t = topic(name);
            if (t != null && t.id().equals(id)) {
                return name;
            }
        }
        return null;
    }
}
