package io.capstan.cluster.controller;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Topics that have shards in the store but no topic record, and for how long. A deletion removes the record first and
 * then the shards; a broker stopped between the two (found by the soak: a replaced disk during DeleteTopics) left the
 * shards for good, and the controller went on electing leaders for a topic nobody could see. A creation writes the
 * shards first and the record last, so shards without a record are also a creation under way: only those missing
 * their record for longer than a grace period, far longer than any creation takes, are orphans. Pure.
 */
final class OrphanShards {
    private final long graceMs;
    private final Map<String, Long> since = new HashMap<>();

    OrphanShards(long graceMs) {
        this.graceMs = graceMs;
    }

    /** The topics whose shards have had no topic record for the grace period, given what the view shows {@code now}. */
    List<String> due(Set<String> topicsWithShards, Set<String> topicRecords, long now) {
        Set<String> recordless = new HashSet<>(topicsWithShards);
        recordless.removeAll(topicRecords);
        since.keySet().retainAll(recordless);
        recordless.forEach(t -> since.putIfAbsent(t, now));
        return since.entrySet().stream().filter(e -> now - e.getValue() >= graceMs).map(Map.Entry::getKey).sorted().toList();
    }

    /** The topic's shards were removed (or found to have a record after all): its clock starts again if they come back. */
    void forget(String topic) {
        since.remove(topic);
    }
}
