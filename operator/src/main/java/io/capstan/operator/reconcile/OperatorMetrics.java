package io.capstan.operator.reconcile;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.Unit;

/** Reconciles, their outcomes and durations, and the actions they took, for Prometheus (base units, _total). */
public final class OperatorMetrics {
    private final PrometheusRegistry registry;
    private final Counter reconciles;
    private final Histogram duration;
    private final Counter actions;
    private final Histogram apiCalls;
    private final Histogram steps;
    /** Each cluster's ({@code namespace/name}) rollout phase and canary step as its last pass left them. */
    private final java.util.Map<String, Rollout> rollouts = new java.util.concurrent.ConcurrentHashMap<>();

    /** A cluster's rollout as a pass left it: its phase (null: none yet) and canary step (null: none). */
    private record Rollout(String namespace, String cluster, String phase, Integer step) {}

    public OperatorMetrics(PrometheusRegistry registry) {
        this.registry = registry;
        reconciles = Counter.builder().name("capstan_operator_reconciles_total").help("Reconciliations by outcome")
                .labelNames("outcome").register(registry);
        duration = Histogram.builder().name("capstan_operator_reconcile_duration_seconds").help("Time one reconciliation took")
                .unit(Unit.SECONDS).classicOnly().classicExponentialUpperBounds(0.001, 2, 16).register(registry);
        actions = Counter.builder().name("capstan_operator_actions_total")
                .help("Actions taken on clusters: broker restarts, shard moves, rollbacks").labelNames("action").register(registry);
        apiCalls = Histogram.builder().name("capstan_operator_reconcile_api_calls")
                .help("API-server requests one reconciliation made itself (informers and watches not counted)")
                .classicOnly().classicExponentialUpperBounds(1, 2, 10).register(registry);
        steps = Histogram.builder().name("capstan_operator_reconcile_step_seconds")
                .help("Time each step of a reconciliation took: observe, plan, certificates, apply, volumes, node_loss, rollout, status")
                .unit(Unit.SECONDS).classicOnly().classicExponentialUpperBounds(0.0001, 2, 18).labelNames("step").register(registry);
        io.prometheus.metrics.core.metrics.GaugeWithCallback.builder().name("capstan_operator_rollout_phase")
                .help("1 for the phase each cluster's rollout is in (Canary, Paused, Promoting, Complete, RolledBack)")
                .labelNames("namespace", "cluster", "phase")
                .callback(cb -> rollouts.values().forEach(r -> {
                    if (r.phase() != null) {
                        cb.call(1, r.namespace(), r.cluster(), r.phase());
                    }
                })).register(registry);
        io.prometheus.metrics.core.metrics.GaugeWithCallback.builder().name("capstan_operator_canary_step")
                .help("The canary step each cluster's rollout is at (spec.rollout.canary.steps index; absent without a canary)")
                .labelNames("namespace", "cluster")
                .callback(cb -> rollouts.values().forEach(r -> {
                    if (r.step() != null) {
                        cb.call(r.step(), r.namespace(), r.cluster());
                    }
                })).register(registry);
    }

    /** A step of a pass began at {@code startNanos} and ended now; returns now, the next step's start. */
    public long step(String step, long startNanos) {
        long now = System.nanoTime();
        steps.labelValues(step).observe((now - startNanos) / 1e9);
        return now;
    }

    /** Where a cluster's rollout stands after a pass. */
    public void rollout(String namespace, String cluster, String phase, Integer step) {
        rollouts.put(namespace + "/" + cluster, new Rollout(namespace, cluster, phase, step));
    }

    /** The cluster is gone: its rollout series go too. */
    public void forget(String namespace, String cluster) {
        rollouts.remove(namespace + "/" + cluster);
    }

    /**
     * The failover controllers the operator runs, one per cluster ({@code namespace/name}): {@code counters} gives each
     * one's failovers and passes since it started.
     */
    public void bindControllers(java.util.function.Supplier<java.util.Map<String, long[]>> counters) {
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_controller_failovers_total")
                .help("Shards the cluster's failover controller gave a new leader because theirs was gone").labelNames("cluster")
                .callback(cb -> counters.get().forEach((cluster, c) -> cb.call(c[0], cluster))).register(registry);
        io.prometheus.metrics.core.metrics.CounterWithCallback.builder().name("capstan_controller_passes_total")
                .help("Passes of the cluster's failover controller over every shard").labelNames("cluster")
                .callback(cb -> counters.get().forEach((cluster, c) -> cb.call(c[1], cluster))).register(registry);
    }

    public void apiCalls(int requests) {
        apiCalls.observe(requests);
    }

    public void reconciled(String outcome, long nanos) {
        reconciles.labelValues(outcome).inc();
        duration.observe(nanos / 1e9);
    }

    public void action(String action) {
        actions.labelValues(action).inc();
    }

    public PrometheusRegistry registry() { return registry; }

    public static OperatorMetrics unregistered() {
        return new OperatorMetrics(new PrometheusRegistry());
    }
}
