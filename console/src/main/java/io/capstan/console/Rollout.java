package io.capstan.console;

import java.util.List;

/**
 * What the console shows of a BrokerCluster's rollout, as its operator reports it in the resource's status: the
 * versions, how many brokers are ready and updated, the canary's phase and step, and the conditions. Only the
 * operator's console has one; {@code capstan console} against a bootstrap address does not.
 *
 * <p>{@code phase}: the canary's (Canary, Paused, Promoting, Complete, RolledBack), or null when no canary ran;
 * {@code step} counts from 1 of {@code steps}.
 */
public record Rollout(String namespace, String name, long generation, long observedGeneration, String targetVersion, String currentVersion,
                      int replicas, int readyReplicas, int updatedReplicas, String phase, Integer step, int steps, String message,
                      Integer clusterVersion, List<Condition> conditions) {

    public record Condition(String type, String status, String reason, String message, String lastTransitionTime) {}
}
