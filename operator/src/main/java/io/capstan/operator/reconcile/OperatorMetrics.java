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
