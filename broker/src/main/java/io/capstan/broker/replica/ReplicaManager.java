package io.capstan.broker.replica;

import io.capstan.cluster.DaemonThreads;
import io.capstan.config.BrokerConfig;
import io.capstan.broker.log.CommitListener;
import io.capstan.broker.log.LogManager;
import io.capstan.broker.log.Shard;
import io.capstan.broker.log.TopicExistsException;
import io.capstan.broker.log.TopicMeta;
import io.capstan.cluster.controller.RestartSafety;
import io.capstan.cluster.metadata.ReplicaProgress;
import io.capstan.cluster.metadata.ShardState;
import io.capstan.cluster.metadata.TopicRecord;
import io.capstan.cluster.metadata.ShardId;
import io.capstan.cluster.metadata.ShardStore;
import io.capstan.cluster.view.ClusterView;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.protocol.Errors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This broker's part in replication. A control thread follows the cluster view (the metadata cache) and gives each
 * local shard its role as its metadata changes: leader (a {@link ReplicaTracker} follows its followers and moves the
 * high watermark; {@link PendingAcks} answers acks=all producers once replicated) or follower (a {@link ReplicaFetcher}
 * per leader copies the leader's log after truncating what the leader never had). ISR changes a leader decides are
 * written by the {@link IsrWriter}; controlled shutdown is {@link LeadershipHandOver}. Roles change only on the
 * control thread; the data path reads them from a concurrent map.
 */
public final class ReplicaManager implements Replication, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReplicaManager.class);

    private final ReplicationQuotas quotas;
    private final int me;
    private final LogManager logs;
    private final ClusterView view;
    private final BrokerConfig.Replication settings;
    private final CommitListener wakeReaders;
    private final ScheduledExecutorService control = Executors.newSingleThreadScheduledExecutor(DaemonThreads.named("capstan-replica-control"));
    private final ScheduledExecutorService timers = ackTimers();
    private final PendingAcks acks = new PendingAcks(timers);
    private final Map<TopicPartition, Role> roles = new ConcurrentHashMap<>();
    private final Map<Integer, ReplicaFetcher> fetchers = new HashMap<>();
    /** Set by {@link #stopFollowing} on the control thread: a stopping broker starts no fetcher. */
    private boolean stoppedFollowing;
    private volatile java.util.function.BooleanSupplier lease = () -> true;
    private final java.util.concurrent.atomic.AtomicBoolean fenced = new java.util.concurrent.atomic.AtomicBoolean();
    private final Set<String> clusterTopics = new HashSet<>();
    private final Set<ShardId> dirtyShards = ConcurrentHashMap.newKeySet();
    private final Set<String> dirtyTopics = ConcurrentHashMap.newKeySet();
    private final java.util.concurrent.atomic.AtomicBoolean drainQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private final IsrWriter isrWriter;
    private final java.util.concurrent.atomic.AtomicLong isrShrinks = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicLong isrExpands = new java.util.concurrent.atomic.AtomicLong();
    private AutoCloseable changes;
    private final Map<TopicPartition, LeadershipListener> leadershipListeners = new ConcurrentHashMap<>();
    private final java.util.concurrent.ExecutorService listenerCalls = Executors.newSingleThreadExecutor(DaemonThreads.named("capstan-leadership-listeners"));

    /** Told, in order and off the control thread, when this broker starts or stops leading a shard. */
    public interface LeadershipListener {
        /** Leading in {@code epoch}: whatever it appends as leader names that epoch, so the log refuses it once the shard moved on. */
        void leading(Shard shard, int epoch);

        void resigned();
    }

    public void onLeadership(TopicPartition tp, LeadershipListener listener) {
        leadershipListeners.put(tp, listener);
    }

    private void tellLeading(Shard shard, int epoch) {
        LeadershipListener l = leadershipListeners.get(shard.topicPartition());
        if (l != null) {
            listenerCalls.execute(() -> l.leading(shard, epoch));
        }
    }

    private void tellResigned(TopicPartition tp) {
        LeadershipListener l = leadershipListeners.get(tp);
        if (l != null) {
            listenerCalls.execute(l::resigned);
        }
    }

    /** Cancelled timeouts leave the queue at once: one is scheduled per acks=all request. */
    private static ScheduledExecutorService ackTimers() {
        java.util.concurrent.ScheduledThreadPoolExecutor timers = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                DaemonThreads.named("capstan-ack-timeouts"));
        timers.setRemoveOnCancelPolicy(true);
        return timers;
    }

    private final InterBrokerTransport transport;
    private final java.util.function.IntSupplier defaultMinInsync;

    public ReplicaManager(int brokerId, LogManager logs, ClusterView view, BrokerConfig.Replication settings, CommitListener wakeReaders) {
        this(brokerId, logs, view, settings, wakeReaders, InterBrokerTransport.plaintext());
    }

    public ReplicaManager(int brokerId, LogManager logs, ClusterView view, BrokerConfig.Replication settings, CommitListener wakeReaders,
                          InterBrokerTransport transport) {
        this(brokerId, logs, view, settings, wakeReaders, transport, settings::minInsyncReplicas,
                new ReplicationQuotas(settings::leaderThrottledRate, settings::followerThrottledRate, System::currentTimeMillis));
    }

    /**
     * {@code defaultMinInsync}: the broker's min.insync.replicas as it is now (a dynamic broker config); {@code quotas}
     * the replication throttle at the rates set now (dynamic too).
     */
    public ReplicaManager(int brokerId, LogManager logs, ClusterView view, BrokerConfig.Replication settings, CommitListener wakeReaders,
                          InterBrokerTransport transport, java.util.function.IntSupplier defaultMinInsync, ReplicationQuotas quotas) {
        this.quotas = quotas;
        this.defaultMinInsync = defaultMinInsync;
        this.transport = transport;
        this.me = brokerId;
        this.logs = logs;
        this.view = view;
        this.settings = settings;
        this.wakeReaders = wakeReaders;
        this.isrWriter = new IsrWriter(brokerId, view, roles, control, this::advance, this::requestSync);
    }

    /**
     * Starts following the cluster view: every shard and topic is looked at once, then only those that change. ISR
     * upkeep runs on a timer (a follower falls behind with time, not with a metadata change).
     */
    public void start() {
        changes = view.subscribe(new ClusterView.Listener() {
            @Override
            public void topicChanged(String name, TopicRecord before, TopicRecord after) {
                dirtyTopics.add(name);
                requestSync();
            }

            @Override
            public void shardChanged(ShardId id, ClusterView.Shard before, ClusterView.Shard after) {
                dirtyShards.add(id);
                countIsrChange(before, after);
                requestSync();
            }
        });
        long isrCheckMs = Math.max(50, Math.min(500, settings.lagMaxMs() / 4));
        control.scheduleWithFixedDelay(isrWriter::maintain, isrCheckMs, isrCheckMs, TimeUnit.MILLISECONDS);
    }

    /** Asks the control thread to act on what changed (coalesced: one drain for a burst of changes). */
    public void requestSync() {
        if (drainQueued.compareAndSet(false, true) && !control.isShutdown()) {
            control.execute(this::drainQuietly);
        }
    }

    /** Acts on every pending change on the control thread and waits for it (tests and start-up). */
    public void syncNow() {
        if (!syncWithin(30_000)) {
            throw new IllegalStateException("metadata sync did not finish within 30 s");
        }
    }

    /** Acts on every pending change on the control thread; false if that took longer than {@code timeoutMs}. */
    public boolean syncWithin(long timeoutMs) {
        java.util.concurrent.Future<?> done = control.submit(this::drainQuietly);
        try {
            done.get(timeoutMs, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("metadata sync failed: " + e.getCause(), e.getCause());
        }
    }

    private void drainQuietly() {
        drainQueued.set(false);
        try {
            drain();
        } catch (RuntimeException e) {
            log.warn("broker {}: cannot apply cluster metadata, retrying: {}", me, e.toString());
            retryLater(null);
        }
    }

    /** Shards whose change could not be applied yet (a local copy still being deleted, a write that failed) come back. */
    private void retryLater(ShardId id) {
        if (control.isShutdown()) {
            return;
        }
        control.schedule(() -> {
            if (id != null) {
                dirtyShards.add(id);
            }
            drainQuietly();
        }, 200, TimeUnit.MILLISECONDS);
    }

    private void drain() {
        Set<String> touched = new HashSet<>();
        for (String name : take(dirtyTopics)) {
            touched.add(name);
            TopicRecord topic = view.topic(name);
            if (topic == null) {
                if (clusterTopics.contains(name)) {
                    dropLocal(name);
                }
            } else {
                for (int p = 0; p < topic.partitions(); p++) {
                    dirtyShards.add(new ShardId(name, p)); // shards wait for their topic record: look at them again
                }
            }
        }
        for (ShardId id : take(dirtyShards)) {
            touched.add(id.topic());
            applyShard(id);
        }
        for (String name : touched) {
            dropIfNoLongerHosted(name);
        }
    }

    private static <T> List<T> take(Set<T> pending) {
        List<T> out = new java.util.ArrayList<>(pending);
        pending.removeAll(out);
        return out;
    }

    private void applyShard(ShardId id) {
        ClusterView.Shard current = view.shard(id);
        TopicRecord topic = view.topic(id.topic());
        if (current == null || topic == null) {
            return; // a topic being created (its record comes last) or deleted (its record goes first)
        }
        ShardState state = current.state();
        if (state.partition() >= topic.partitions()) {
            return; // added by a CreatePartitions whose topic record has not grown yet (its record comes last)
        }
        TopicPartition tp = new TopicPartition(id.topic(), id.partition());
        if (!state.replicas().contains(me)) {
            retire(tp);
            return;
        }
        Shard shard = local(topic, state.partition());
        if (shard == null) {
            retryLater(id);
            return;
        }
        apply(shard, state, current.version());
    }

    /** A topic the cluster has but whose shards are all assigned elsewhere now: its local copy goes. */
    private void dropIfNoLongerHosted(String name) {
        TopicRecord topic = view.topic(name);
        if (topic == null || logs.catalog().topic(name) == null) {
            return;
        }
        for (int p = 0; p < topic.partitions(); p++) {
            ShardState state = view.state(name, p);
            if (state == null || state.replicas().contains(me)) {
                return;
            }
        }
        log.info("broker {}: no replica of {} is assigned here any more; dropping the local copy", me, name);
        dropLocal(name);
    }

    /** A shard reassigned away from this broker: stop its role and drop its data (the topic's other shards stay). */
    private void retire(TopicPartition tp) {
        Shard shard = logs.catalog().shard(tp);
        Role role = roles.remove(tp);
        if (role != null) {
            stopFetching(tp);
            if (role instanceof Leading) {
                stoppedLeading(tp);
            }
            log.info("broker {}: {} was reassigned away from this broker; dropping its data", me, tp);
        }
        if (shard == null) {
            return;
        }
        // Back to an empty log at offset 0, as if never hosted: were it left empty at its old end, a later move back
        // here would resume fetching there and never copy what the leader holds before it.
        if (shard.logEnd() != 0 || shard.logStartOffset() != 0) {
            logs.resetTo(shard, 0).exceptionally(e -> {
                log.warn("broker {}: cannot drop the data of {}: {}", me, tp, e.toString());
                return null;
            });
        }
    }

    private Shard local(TopicRecord topic, int partition) {
        TopicMeta meta = logs.catalog().topic(topic.name());
        Uuid id = Uuid.fromString(topic.topicId());
        if (meta != null && !meta.id().equals(id)) {
            log.info("broker {}: local topic {} has id {} but the cluster's has {}: dropping the old copy", me, topic.name(), meta.id(), id);
            dropLocal(topic.name());
            return null;
        }
        if (meta == null) {
            try {
                logs.createTopic(topic.name(), id, topic.partitions(), topic.configs());
            } catch (TopicExistsException raced) {
                return null; // being deleted; the next sync recreates it
            }
        }
        clusterTopics.add(topic.name());
        if (meta != null && !meta.configs().equals(topic.configs())) {
            logs.catalog().reconfigure(topic.name(), topic.configs()); // an AlterConfigs: the cluster's configs win
        }
        if (meta != null && meta.partitions() < topic.partitions()) {
            logs.catalog().grow(topic.name(), topic.partitions()); // a CreatePartitions
        }
        TopicPartition tp = new TopicPartition(topic.name(), partition);
        Shard shard = logs.catalog().shard(tp);
        if (shard != null && !shard.replicated()) {
            // A local copy this broker has not replicated yet (after a restart, or created anew after its topic left
            // and came back): nothing says how far the cluster had committed, so start from the log start and let the
            // leader's answers (or, leading, the followers' progress) raise it. Until then the log's own end would be
            // its high watermark and acks=all would be answered without a single follower.
            shard.replicate(shard.logStartOffset());
        }
        return shard;
    }

    private void dropLocal(String name) {
        clusterTopics.remove(name);
        roles.entrySet().removeIf(e -> {
            TopicPartition tp = e.getKey();
            if (!tp.topic().equals(name)) {
                return false;
            }
            fetchers.values().forEach(f -> f.remove(tp));
            if (e.getValue() instanceof Leading) {
                stoppedLeading(tp);
            }
            return true;
        });
        if (logs.catalog().topic(name) != null) {
            logs.deleteTopic(name).exceptionally(e -> {
                log.warn("broker {}: cannot delete local copy of topic {}: {}", me, name, e.toString());
                return null;
            });
        }
    }

    private void apply(Shard shard, ShardState state, long version) {
        TopicPartition tp = shard.topicPartition();
        Role role = roles.get(tp);
        if (state.leader() == me) {
            if (role instanceof Leading leading && leading.epoch == state.leaderEpoch()) {
                long hw;
                synchronized (leading.tracker) {
                    // state and tracker change together: an ISR change is decided on the state the tracker follows
                    if (!leading.learned(state, version)) {
                        return;
                    }
                    hw = leading.tracker.isrChanged(state.isr(), view.now());
                }
                advance(shard, hw);
                return;
            }
            becomeLeader(shard, state, version);
        } else if (state.leader() >= 0) {
            if (role instanceof Following f && f.epoch() == state.leaderEpoch() && f.leader() == state.leader()) {
                return;
            }
            becomeFollower(shard, state);
        } else if (role != null) {
            resign(shard);
            roles.remove(tp);
            acks.abandon(shard, Errors.NOT_LEADER_OR_FOLLOWER); // as in becomeFollower: a wait registered after resign's
            stopFetching(tp);
            log.info("broker {}: {} is offline (no in-sync replica alive)", me, tp);
        }
    }

    private void becomeLeader(Shard shard, ShardState state, long version) {
        stopFetching(shard.topicPartition());
        shard.leaderEpoch(state.leaderEpoch());
        ReplicaTracker tracker = new ReplicaTracker(me, state.replicas(), state.isr(), shard.logEnd(), shard.highWatermark(),
                view.now(), settings.lagMaxMs());
        Leading leading = new Leading(state.leaderEpoch(), tracker, state, version);
        roles.put(shard.topicPartition(), leading);
        long hw;
        synchronized (tracker) {
            hw = tracker.leaderAppended(shard.logEnd());
        }
        advance(shard, hw);
        log.info("broker {}: leading {} in epoch {} (log end {}, high watermark {}, in sync {})", me, shard,
                state.leaderEpoch(), shard.logEnd(), shard.highWatermark(), state.isr());
        // also when it led already: the epoch moved, and appends in the old one would now be refused
        tellLeading(shard, state.leaderEpoch());
    }

    private void becomeFollower(Shard shard, ShardState state) {
        resign(shard);
        shard.leaderEpoch(state.leaderEpoch());
        roles.put(shard.topicPartition(), new Following(state.leaderEpoch(), state.leader()));
        // a produce that saw the leading role before it was replaced may have registered its wait after resign's abandon
        acks.abandon(shard, Errors.NOT_LEADER_OR_FOLLOWER);
        stopFetching(shard.topicPartition());
        if (stoppedFollowing) {
            return;
        }
        fetchers.computeIfAbsent(state.leader(), leader -> {
            ReplicaFetcher f = new ReplicaFetcher(me, leader, view, logs, settings, transport, quotas);
            f.start();
            return f;
        }).add(shard, state.leaderEpoch());
        log.info("broker {}: following broker {} for {} in epoch {} from offset {}", me, state.leader(), shard,
                state.leaderEpoch(), shard.logEnd());
    }

    private void resign(Shard shard) {
        if (roles.get(shard.topicPartition()) instanceof Leading) {
            stoppedLeading(shard.topicPartition());
        }
    }

    /** No longer leading: producers waiting for acks=all go find the new leader, and leadership listeners hear of it. */
    private void stoppedLeading(TopicPartition tp) {
        Shard shard = logs.catalog().shard(tp);
        if (shard != null) {
            acks.abandon(shard, Errors.NOT_LEADER_OR_FOLLOWER);
        }
        tellResigned(tp);
    }

    private void stopFetching(TopicPartition tp) {
        fetchers.values().forEach(f -> f.remove(tp));
    }

    private void advance(TopicPartition tp, long hw) {
        Shard shard = logs.catalog().shard(tp);
        if (shard != null) {
            advance(shard, hw);
        }
    }

    private void advance(Shard shard, long hw) {
        long before = shard.highWatermark();
        shard.advanceHighWatermark(hw);
        if (shard.highWatermark() > before) {
            acks.released(shard);
            wakeReaders.committed(shard);
        }
    }

    // --- Replication: called from network threads and the committer ---

    @Override
    public void committed(Shard shard) {
        if (roles.get(shard.topicPartition()) instanceof Leading leading) {
            long hw;
            synchronized (leading.tracker) {
                hw = leading.tracker.leaderAppended(shard.logEnd());
            }
            advance(shard, hw);
        }
    }

    @Override
    public Errors canAppend(Shard shard, short acks, int minInsyncReplicas) {
        Role role = roles.get(shard.topicPartition());
        if (!(role instanceof Leading leading) || !leaseHeld()) {
            return Errors.NOT_LEADER_OR_FOLLOWER;
        }
        if (acks == -1 && leading.isrSize() < minInsyncReplicas) {
            return Errors.NOT_ENOUGH_REPLICAS;
        }
        return Errors.NONE;
    }

    /**
     * Stops leading while {@code held} is false (this broker's lease ran out unrenewed by its own clock, so the
     * controller may have elected other leaders it cannot hear of): produce is refused with NOT_LEADER_OR_FOLLOWER,
     * so clients go and find the new leader instead of waiting out their request timeout here, and the producers
     * already waiting for acks=all are answered the same way. Kafka's brokers have no such self-fencing; their
     * controller's fence reaches them only over the connection that failed.
     */
    public void fenceWithoutLease(java.util.function.BooleanSupplier held) {
        this.lease = held;
        // checked every 100 ms too, not only on produce: waiting acks=all producers hear of a lost lease at once
        timers.scheduleWithFixedDelay(this::leaseHeld, 100, 100, TimeUnit.MILLISECONDS);
    }

    private boolean leaseHeld() {
        if (lease.getAsBoolean()) {
            if (fenced.compareAndSet(true, false)) {
                log.info("broker {}: lease renewed again; leading as the metadata says", me);
            }
            return true;
        }
        if (fenced.compareAndSet(false, true)) {
            log.warn("broker {}: its lease ran out without a renewal (metadata store unreachable?); refusing produce as a leader until"
                    + " it renews, since the controller may have elected other leaders", me);
            roles.forEach((tp, role) -> {
                Shard shard = logs.catalog().shard(tp);
                if (role instanceof Leading && shard != null) {
                    acks.abandon(shard, Errors.NOT_LEADER_OR_FOLLOWER);
                }
            });
        }
        return false;
    }

    @Override
    public CompletableFuture<Errors> awaitReplicated(Shard shard, long lastOffset, int minInsyncReplicas, long timeoutMs) {
        Role role = roles.get(shard.topicPartition());
        if (!(role instanceof Leading leading)) {
            return CompletableFuture.completedFuture(Errors.NOT_LEADER_OR_FOLLOWER);
        }
        CompletableFuture<Errors> done = acks.await(shard, lastOffset, minInsyncReplicas, leading::isrSize, timeoutMs);
        // the role may have changed since the check above, and its abandon run before this wait was registered: left
        // there, the request would hang until its timeout (CI saw a producer's whole pipeline to this broker stall so)
        Role now = roles.get(shard.topicPartition());
        if (!(now instanceof Leading)) {
            acks.abandon(shard, Errors.NOT_LEADER_OR_FOLLOWER);
        } else if (now != leading) {
            done.complete(Errors.NOT_LEADER_OR_FOLLOWER);
        }
        return done;
    }

    @Override
    public Errors canServeConsumers(Shard shard) {
        return roles.get(shard.topicPartition()) instanceof Leading ? Errors.NONE : Errors.NOT_LEADER_OR_FOLLOWER;
    }

    @Override
    public Errors followerFetched(Shard shard, int replicaId, int leaderEpoch, long fetchOffset, long logStartOffset) {
        Role role = roles.get(shard.topicPartition());
        if (!(role instanceof Leading leading)) {
            return role == null ? Errors.NOT_LEADER_OR_FOLLOWER : EpochCheck.check(role.epoch(), leaderEpoch) == Errors.UNKNOWN_LEADER_EPOCH
                    ? Errors.UNKNOWN_LEADER_EPOCH : Errors.NOT_LEADER_OR_FOLLOWER;
        }
        Errors epochError = EpochCheck.check(leading.epoch, leaderEpoch);
        if (epochError != Errors.NONE) {
            return epochError;
        }
        if (!leading.state().replicas().contains(replicaId) || replicaId == me) {
            return Errors.NOT_LEADER_OR_FOLLOWER;
        }
        long hw;
        synchronized (leading.tracker) {
            hw = leading.tracker.followerFetched(replicaId, Math.min(fetchOffset, shard.logEnd()), view.now());
            leading.tracker.followerLogStart(replicaId, logStartOffset);
        }
        advance(shard, hw);
        return Errors.NONE;
    }

    @Override
    public boolean leaderThrottles(Shard shard, int replicaId) {
        if (!(roles.get(shard.topicPartition()) instanceof Leading leading)) {
            return false;
        }
        if (!quotas.leader().names(logs.catalog().topic(shard.topicPartition().topic()), shard.topicPartition().partition(), me)) {
            return false;
        }
        synchronized (leading.tracker) {
            return !leading.tracker.isr().contains(replicaId);
        }
    }

    @Override
    public ReplicationQuotas quotas() {
        return quotas;
    }

    @Override
    public long lowWatermark(Shard shard) {
        if (!(roles.get(shard.topicPartition()) instanceof Leading leading)) {
            return -1;
        }
        synchronized (leading.tracker) {
            return leading.tracker.lowWatermark(shard.logStartOffset());
        }
    }

    @Override
    public Errors checkLeaderEpoch(Shard shard, int currentLeaderEpoch) {
        Role role = roles.get(shard.topicPartition());
        if (!(role instanceof Leading leading)) {
            return Errors.NOT_LEADER_OR_FOLLOWER;
        }
        return EpochCheck.check(leading.epoch, currentLeaderEpoch);
    }

    /** "Is it safe to restart this broker now?", from the metadata cache, with reasons when not. */
    public RestartSafety.Verdict restartSafety() {
        List<ShardState> shards = view.shards().values().stream().map(ClusterView.Shard::state).toList();
        return RestartSafety.check(me, shards, topic -> minInsync(view.topic(topic)));
    }

    private int minInsync(TopicRecord topic) {
        String configured = topic == null ? null : topic.configs().get("min.insync.replicas");
        return configured == null ? defaultMinInsync.getAsInt() : Integer.parseInt(configured);
    }

    /**
     * Controlled shutdown ({@link LeadershipHandOver}): every shard this broker leads goes to another live in-sync
     * replica. Returns how many shards moved.
     */
    public int moveLeadershipAway() {
        try {
            return control.submit(() -> LeadershipHandOver.handOver(me, view, roles, this::stoppedLeading)).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("broker {}: controlled shutdown could not move leadership ({}); the lease expiry will", me, e.toString());
            return 0;
        }
    }

    /**
     * Stopping: every fetcher closes before the lease is released, so that no fetch reaches a leader after the
     * controller has taken this broker out of an ISR (a last fetch at the high watermark would count as caught up).
     */
    public void stopFollowing() {
        try {
            control.submit(() -> {
                stoppedFollowing = true;
                fetchers.values().forEach(ReplicaFetcher::close);
                fetchers.clear();
            }).get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("broker {}: could not stop its fetchers before releasing its lease ({}); leaders ignore brokers without one", me, e.toString());
        }
    }

    /** The cluster as this broker sees it. */
    /**
     * An ISR change of a shard this broker leads (before and after, same epoch), whoever wrote it: the leader itself
     * drops a lagging follower, the controller one whose lease ended.
     */
    private void countIsrChange(ClusterView.Shard before, ClusterView.Shard after) {
        if (before == null || after == null || after.state().leader() != me
                || before.state().leaderEpoch() != after.state().leaderEpoch()) {
            return;
        }
        int was = before.state().isr().size();
        int is = after.state().isr().size();
        if (is < was) {
            isrShrinks.incrementAndGet();
        } else if (is > was) {
            isrExpands.incrementAndGet();
        }
    }

    /** The largest follower lag over the shards this broker leads: {records, milliseconds} (see {@link ReplicaTracker}). */
    public long[] maxFollowerLag() {
        long records = 0;
        long ms = 0;
        long now = view.now();
        for (Role role : roles.values()) {
            if (role instanceof Leading leading) {
                synchronized (leading.tracker) {
                    records = Math.max(records, leading.tracker.maxFollowerLagRecords());
                    ms = Math.max(ms, leading.tracker.maxFollowerLagMs(now));
                }
            }
        }
        return new long[] {records, ms};
    }

    /** ISR changes that removed a replica from a shard this broker leads (Kafka's IsrShrinksPerSec, as a total). */
    /** acks=all batches waiting for the high watermark to pass them, on every shard this broker leads. */
    public int awaitingReplication() {
        return acks.size();
    }

    public long isrShrinks() {
        return isrShrinks.get();
    }

    /** ISR changes that added a replica back to a shard this broker leads (Kafka's IsrExpandsPerSec, as a total). */
    public long isrExpands() {
        return isrExpands.get();
    }

    public ClusterView view() {
        return view;
    }

    /** Every shard this broker leads, with how far each replica has copied it. */
    public List<ReplicaProgress> progress() {
        List<ReplicaProgress> out = new java.util.ArrayList<>();
        for (Map.Entry<TopicPartition, Role> e : roles.entrySet()) {
            if (!(e.getValue() instanceof Leading leading)) {
                continue;
            }
            Shard shard = logs.catalog().shard(e.getKey());
            if (shard == null) {
                continue;
            }
            Map<Integer, Long> ends = new HashMap<>();
            synchronized (leading.tracker) {
                for (int r : leading.state().replicas()) {
                    if (r != me) {
                        ends.put(r, leading.tracker.logEnd(r));
                    }
                }
            }
            out.add(new ReplicaProgress(e.getKey().topic(), e.getKey().partition(), me, leading.epoch, shard.logEnd(),
                    shard.highWatermark(), ends));
        }
        return out;
    }

    @Override
    public void close() {
        try {
            if (changes != null) {
                changes.close();
            }
        } catch (Exception ignored) {
            // closing anyway
        }
        control.shutdownNow();
        try {
            control.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        isrWriter.close();
        fetchers.values().forEach(ReplicaFetcher::close);
        listenerCalls.shutdownNow();
        try {
            // a listener taking leadership reads the log (the group coordinator replays its offsets): it must be done
            // before the broker closes the log under it, or it reads a closed RocksDB and the process crashes
            if (!listenerCalls.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("a leadership listener was still running 30 s after the broker began to stop; the log closes under it");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        roles.keySet().forEach(tp -> {
            Shard shard = logs.catalog().shard(tp);
            if (shard != null) {
                acks.abandon(shard, Errors.NOT_LEADER_OR_FOLLOWER);
            }
        });
        timers.shutdownNow();
    }
}
