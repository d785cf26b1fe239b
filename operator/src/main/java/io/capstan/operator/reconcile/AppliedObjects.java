package io.capstan.operator.reconcile;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What this operator process last applied of each owned object, so that a pass writes only what needs writing: an
 * object whose rendering changed, a StatefulSet that is missing or whose spec someone else changed (its generation
 * moved past the one this process's write produced), and any object not written for {@link #REAPPLY_EVERY_MS}, which
 * repairs drift in the objects the operator does not watch. A restarted operator applies everything once.
 */
final class AppliedObjects {
    static final long REAPPLY_EVERY_MS = 5 * 60_000;

    private record Applied(String rendering, Long generation, long atMs) {}

    private final Map<String, Applied> applied = new ConcurrentHashMap<>();

    /**
     * Whether {@code desired} must be written at {@code nowMs}. {@code observed} is the object as the operator's cache
     * holds it when it watches that kind (the StatefulSet), else null with {@code watched} false.
     */
    boolean due(HasMetadata desired, boolean watched, HasMetadata observed, long nowMs) {
        Applied last = applied.get(key(desired));
        if (last == null || !last.rendering().equals(rendering(desired)) || nowMs - last.atMs() >= REAPPLY_EVERY_MS) {
            return true;
        }
        if (!watched) {
            return false;
        }
        return observed == null || last.generation() == null
                || !last.generation().equals(observed.getMetadata().getGeneration());
    }

    /** {@code desired} was written at {@code nowMs}; {@code result} is the API server's answer. */
    void written(HasMetadata desired, HasMetadata result, long nowMs) {
        Long generation = result == null || result.getMetadata() == null ? null : result.getMetadata().getGeneration();
        applied.put(key(desired), new Applied(rendering(desired), generation, nowMs));
    }

    private static String key(HasMetadata o) {
        return o.getApiVersion() + "/" + o.getKind() + "/" + o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
    }

    /** A digest of the rendered object: equal renderings, equal digests. */
    private static String rendering(HasMetadata o) {
        try {
            byte[] json = Serialization.asJson(o).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(json));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
