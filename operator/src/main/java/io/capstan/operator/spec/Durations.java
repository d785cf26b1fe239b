package io.capstan.operator.spec;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The spec's durations: "1h30m", "10m", "45s", "365d" (the CRD's patterns guarantee the shape). */
public final class Durations {
    private static final Pattern PART = Pattern.compile("([0-9]+)([smhd])");

    private Durations() {}

    public static Duration parse(String text) {
        Matcher m = PART.matcher(text);
        Duration d = Duration.ZERO;
        while (m.find()) {
            long n = Long.parseLong(m.group(1));
            d = d.plus(switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            });
        }
        return d;
    }
}
