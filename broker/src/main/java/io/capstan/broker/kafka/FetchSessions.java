package io.capstan.broker.kafka;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;

/**
 * Incremental fetch sessions (KIP-227): a consumer fetching many partitions sends them all once, then only those
 * whose position changed, and gets back only partitions with records or a change of high watermark, log start or
 * error. The broker keeps each session's partitions and their fetch positions here, at most
 * max.incremental.fetch.session.cache.slots sessions; when all are taken the least recently used goes (its client gets
 * FETCH_SESSION_ID_NOT_FOUND and starts over with a full fetch, as Kafka's clients do). Thread-safe.
 */
public final class FetchSessions {
    public static final int INITIAL_EPOCH = 0;
    public static final int FINAL_EPOCH = -1;

    /** A partition of a session, by topic id (Fetch v13+) or by name. */
    public record Key(String topic, Uuid topicId, int partition) {
        static Key of(String topic, Uuid topicId, int partition) {
            return topicId == null || Uuid.ZERO_UUID.equals(topicId) ? new Key(topic, Uuid.ZERO_UUID, partition) : new Key(null, topicId, partition);
        }
    }

    /** What the client asked for a partition, and what it was last told (so unchanged partitions can be left out). */
    public static final class Partition {
        final String topic;
        final Uuid topicId;
        final int partition;
        long fetchOffset;
        int maxBytes;
        int currentLeaderEpoch;
        long logStartOffset;
        long sentHighWatermark = -1;
        long sentLastStable = -1;
        long sentLogStart = -1;

        public Partition(String topic, Uuid topicId, int partition, long fetchOffset, int maxBytes, int currentLeaderEpoch, long logStartOffset) {
            this.topic = topic;
            this.topicId = topicId;
            this.partition = partition;
            this.fetchOffset = fetchOffset;
            this.maxBytes = maxBytes;
            this.currentLeaderEpoch = currentLeaderEpoch;
            this.logStartOffset = logStartOffset;
        }

        Key key() {
            return Key.of(topic, topicId, partition);
        }

        public String topic() { return topic; }
        public Uuid topicId() { return topicId; }
        public int partition() { return partition; }
        public long fetchOffset() { return fetchOffset; }
        public int maxBytes() { return maxBytes; }
        public int currentLeaderEpoch() { return currentLeaderEpoch; }
        public long logStartOffset() { return logStartOffset; }

        /** Whether an answer must carry this partition; if so, remembers what it says. */
        boolean changed(boolean records, boolean error, long highWatermark, long lastStable, long logStart) {
            boolean changed = records || error || highWatermark != sentHighWatermark || lastStable != sentLastStable
                    || logStart != sentLogStart;
            sentHighWatermark = highWatermark;
            sentLastStable = lastStable;
            sentLogStart = logStart;
            return changed;
        }
    }

    /** One client's session: its partitions in fetch order and the epoch its next request must carry. */
    public static final class Session {
        private final int id;
        private int nextEpoch = 1;
        private final LinkedHashMap<Key, Partition> partitions = new LinkedHashMap<>();

        Session(int id) {
            this.id = id;
        }

        public int id() {
            return id;
        }

        public synchronized List<Partition> partitions() {
            return new ArrayList<>(partitions.values());
        }

        synchronized int nextEpoch() {
            return nextEpoch;
        }

        /**
         * Decides the answer's partitions: those with records, an error or news; the ones that returned records move to
         * the end, so a byte limit does not starve the later partitions (Kafka rotates the same way).
         */
        public synchronized List<Key> answer(Map<Key, PartitionOutcome> outcomes) {
            List<Key> included = new ArrayList<>();
            List<Partition> served = new ArrayList<>();
            for (Partition p : partitions.values()) {
                PartitionOutcome o = outcomes.get(p.key());
                if (o != null && p.changed(o.records(), o.error(), o.highWatermark(), o.lastStableOffset(), o.logStartOffset())) {
                    included.add(p.key());
                }
                if (o != null && o.records()) {
                    served.add(p);
                }
            }
            for (Partition p : served) {
                partitions.remove(p.key());
                partitions.put(p.key(), p);
            }
            return included;
        }
    }

    /** What one fetch told about a partition. */
    public record PartitionOutcome(boolean records, boolean error, long highWatermark, long lastStableOffset, long logStartOffset) {}

    /** What to do with a fetch: read these partitions, answer as this session (null: sessionless), or refuse. */
    public record Begun(Errors error, Session session, List<Partition> partitions, boolean incremental) {}

    private final int slots;
    private final LinkedHashMap<Integer, Session> sessions = new LinkedHashMap<>(16, 0.75f, true);
    private long evictions;

    public FetchSessions(int slots) {
        this.slots = slots;
    }

    /**
     * Applies a request's session fields, as Kafka's FetchManager does: epoch -1 ends the session named (if any) and
     * fetches without one; epoch 0 (re)starts a session with the partitions given; any other epoch continues the named
     * session, which must exist (FETCH_SESSION_ID_NOT_FOUND) and expect that epoch (INVALID_FETCH_SESSION_EPOCH), adding or
     * updating the given partitions and dropping the forgotten ones.
     */
    public Begun begin(int sessionId, int epoch, List<Partition> given, List<Key> forgotten) {
        if (epoch == FINAL_EPOCH) {
            if (sessionId != 0) {
                remove(sessionId);
            }
            return new Begun(Errors.NONE, null, given, false);
        }
        if (epoch == INITIAL_EPOCH) {
            if (sessionId != 0) {
                remove(sessionId);
            }
            Session created = create();
            if (created != null) {
                synchronized (created) {
                    given.forEach(p -> created.partitions.put(p.key(), p));
                }
            }
            return new Begun(Errors.NONE, created, given, false);
        }
        Session session;
        synchronized (this) {
            session = sessions.get(sessionId);
        }
        if (session == null) {
            return new Begun(Errors.FETCH_SESSION_ID_NOT_FOUND, null, List.of(), true);
        }
        synchronized (session) {
            if (session.nextEpoch != epoch) {
                return new Begun(Errors.INVALID_FETCH_SESSION_EPOCH, null, List.of(), true);
            }
            session.nextEpoch = epoch == Integer.MAX_VALUE ? 1 : epoch + 1;
            for (Partition p : given) {
                Partition known = session.partitions.get(p.key());
                if (known == null) {
                    session.partitions.put(p.key(), p);
                } else {
                    known.fetchOffset = p.fetchOffset;
                    known.maxBytes = p.maxBytes;
                    known.currentLeaderEpoch = p.currentLeaderEpoch;
                    known.logStartOffset = p.logStartOffset;
                }
            }
            forgotten.forEach(session.partitions::remove);
            return new Begun(Errors.NONE, session, new ArrayList<>(session.partitions.values()), true);
        }
    }

    private synchronized Session create() {
        if (slots <= 0) {
            return null;
        }
        if (sessions.size() >= slots) {
            Iterator<Map.Entry<Integer, Session>> eldest = sessions.entrySet().iterator();
            eldest.next();
            eldest.remove();
            evictions++;
        }
        int id;
        do {
            id = ThreadLocalRandom.current().nextInt(1, Integer.MAX_VALUE);
        } while (sessions.containsKey(id));
        Session s = new Session(id);
        sessions.put(id, s);
        return s;
    }

    public synchronized void remove(int sessionId) {
        sessions.remove(sessionId);
    }

    public synchronized int size() {
        return sessions.size();
    }

    public synchronized long evictions() {
        return evictions;
    }
}
