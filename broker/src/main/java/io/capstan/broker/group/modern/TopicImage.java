package io.capstan.broker.group.modern;

import java.util.Collection;

/** The cluster's topics as the coordinator sees them now: what subscriptions resolve against. */
public interface TopicImage {

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
