package io.capstan.operator.logging;

import java.util.logging.ConsoleHandler;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** The operator's log output: JSON lines (LOG_FORMAT=json, the default) or plain text lines (LOG_FORMAT=text). */
public final class LogSetup {
    private LogSetup() {}

    public static void configure(String format, String level) {
        String chosen = format == null || format.isBlank() ? "json" : format.trim().toLowerCase(java.util.Locale.ROOT);
        if (!chosen.equals("json") && !chosen.equals("text")) {
            throw new IllegalArgumentException("LOG_FORMAT must be json or text, got '" + format + "'");
        }
        if (chosen.equals("text")) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tLZ %4$s [%3$s] %5$s%6$s%n");
        }
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        Handler handler = new ConsoleHandler();
        handler.setFormatter(chosen.equals("json") ? new JsonLogFormatter() : new SimpleFormatter());
        Level threshold = level == null || level.isBlank() ? Level.INFO : julLevel(level);
        handler.setLevel(threshold);
        root.setLevel(threshold);
        root.addHandler(handler);
    }

    private static Level julLevel(String level) {
        return switch (level.trim().toUpperCase(java.util.Locale.ROOT)) {
            case "ERROR" -> Level.SEVERE;
            case "WARN" -> Level.WARNING;
            case "INFO" -> Level.INFO;
            case "DEBUG" -> Level.FINE;
            case "TRACE" -> Level.FINEST;
            default -> throw new IllegalArgumentException("LOG_LEVEL must be ERROR, WARN, INFO, DEBUG or TRACE, got '" + level + "'");
        };
    }
}
