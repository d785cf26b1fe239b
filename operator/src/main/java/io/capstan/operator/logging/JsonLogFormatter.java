package io.capstan.operator.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line (time, level, logger, thread, message, error), the shape log collectors (Loki, Fluent Bit,
 * Cloud Logging) parse without configuration. Messages arrive already formatted by SLF4J.
 */
public final class JsonLogFormatter extends Formatter {
    @Override
    public String format(LogRecord record) {
        StringBuilder b = new StringBuilder(256).append('{');
        field(b, "time", Instant.ofEpochMilli(record.getMillis()).toString()).append(',');
        field(b, "level", level(record)).append(',');
        field(b, "logger", record.getLoggerName()).append(',');
        field(b, "thread", Thread.currentThread().getName()).append(',');
        field(b, "message", formatMessage(record));
        if (record.getThrown() != null) {
            StringWriter trace = new StringWriter();
            record.getThrown().printStackTrace(new PrintWriter(trace));
            b.append(',');
            field(b, "error", trace.toString());
        }
        return b.append("}\n").toString();
    }

    /** SLF4J's names, not JUL's (WARN rather than WARNING, DEBUG rather than FINE). */
    private static String level(LogRecord record) {
        int v = record.getLevel().intValue();
        if (v >= 1000) {
            return "ERROR";
        }
        if (v >= 900) {
            return "WARN";
        }
        if (v >= 800) {
            return "INFO";
        }
        return v >= 500 ? "DEBUG" : "TRACE";
    }

    private static StringBuilder field(StringBuilder b, String name, String value) {
        b.append('"').append(name).append("\":");
        if (value == null) {
            return b.append("null");
        }
        b.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"');
    }
}
