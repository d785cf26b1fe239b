package io.capstan.broker.quota;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Optional;
import org.apache.kafka.common.protocol.ApiMessage;

/**
 * The throttle_time_ms field of a response, for any API that has one (most do; ApiVersions v0 and a few others do not):
 * a request-time quota applies to every request, so its delay is written into whatever the response is. The accessors
 * are looked up once per response class.
 */
final class ThrottleTimeField {
    private record Accessors(MethodHandle get, MethodHandle set) {}

    private static final ClassValue<Optional<Accessors>> ACCESSORS = new ClassValue<>() {
        @Override
        protected Optional<Accessors> computeValue(Class<?> type) {
            try {
                MethodHandles.Lookup lookup = MethodHandles.publicLookup();
                return Optional.of(new Accessors(lookup.findVirtual(type, "throttleTimeMs", MethodType.methodType(int.class)),
                        lookup.findVirtual(type, "setThrottleTimeMs", MethodType.methodType(type, int.class))));
            } catch (NoSuchMethodException | IllegalAccessException e) {
                return Optional.empty(); // this response has no throttle time to tell
            }
        }
    };

    private ThrottleTimeField() {}

    /** Raises the response's throttle time to {@code ms} if it has the field and says less. */
    static void raise(ApiMessage response, long ms) {
        ACCESSORS.get(response.getClass()).ifPresent(a -> {
            try {
                int now = (int) a.get().invoke(response);
                if (ms > now) {
                    a.set().invoke(response, (int) Math.min(ms, Integer.MAX_VALUE));
                }
            } catch (Throwable e) {
                throw new IllegalStateException("throttle_time_ms of " + response.getClass().getSimpleName(), e);
            }
        });
    }
}
