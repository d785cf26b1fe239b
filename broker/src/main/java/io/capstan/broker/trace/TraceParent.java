package io.capstan.broker.trace;

/**
 * A W3C trace context {@code traceparent} value (version 00): the caller's trace and span ids in lower-case hex and
 * whether the caller sampled the trace. Ids of all zeros, upper-case hex, wrong lengths and version ff are invalid, as
 * the W3C Trace Context recommendation says; a later version is read for its first four fields.
 */
public record TraceParent(String traceId, String spanId, boolean sampled) {
    /** The name of the record header producers put it in (the OpenTelemetry Kafka instrumentation's choice). */
    public static final String HEADER = "traceparent";

    private static final int LENGTH = 55;

    /** The value parsed, or null when it is not a valid traceparent (a malformed header never fails a request). */
    public static TraceParent parse(CharSequence value) {
        if (value == null || value.length() < LENGTH) {
            return null;
        }
        String version = value.subSequence(0, 2).toString();
        if (!hex(value, 0, 2) || version.equals("ff") || (version.equals("00") && value.length() != LENGTH)
                || (value.length() > LENGTH && value.charAt(LENGTH) != '-')) {
            return null;
        }
        if (value.charAt(2) != '-' || value.charAt(35) != '-' || value.charAt(52) != '-') {
            return null;
        }
        if (!hex(value, 3, 35) || !hex(value, 36, 52) || !hex(value, 53, 55) || zeros(value, 3, 35) || zeros(value, 36, 52)) {
            return null;
        }
        int flags = Integer.parseInt(value.subSequence(53, 55).toString(), 16);
        return new TraceParent(value.subSequence(3, 35).toString(), value.subSequence(36, 52).toString(), (flags & 1) == 1);
    }

    private static boolean hex(CharSequence s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
                return false;
            }
        }
        return true;
    }

    private static boolean zeros(CharSequence s, int from, int to) {
        for (int i = from; i < to; i++) {
            if (s.charAt(i) != '0') {
                return false;
            }
        }
        return true;
    }
}
