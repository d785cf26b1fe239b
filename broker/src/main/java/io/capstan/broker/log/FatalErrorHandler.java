package io.capstan.broker.log;

import org.slf4j.LoggerFactory;

/**
 * What the broker does when something it cannot serve without has failed: a WAL fsync that did not succeed (after which
 * nobody knows what the disk holds, the "fsyncgate" lesson PostgreSQL learnt), or a data-path thread that died. Going on
 * would leave a green health check over a log that accepts nothing, or worse, one that later shows records whose
 * producers were told they failed.
 */
@FunctionalInterface
public interface FatalErrorHandler {
    /** Exit status of a broker stopped by a fatal error (EX_SOFTWARE): a supervisor restarts it. */
    int EXIT_STATUS = 70;

    void fatal(String what, Throwable cause);

    /**
     * The production answer, as Kafka's and PostgreSQL's: say why on stderr and in the log, then halt the process at once
     * (no shutdown hooks: they would flush and close a log in an unknown state). It restarts and recovers from what is
     * on disk; producers retry against the recovered log.
     */
    static FatalErrorHandler haltProcess() {
        return (what, cause) -> {
            String message = "FATAL: " + what + "; stopping the broker (exit status " + EXIT_STATUS
                    + ") so that it restarts and recovers from what is on disk. Check the data volume and the log above.";
            // the log carries the stack trace; the plain line on stderr survives a logger that is itself broken
            LoggerFactory.getLogger(FatalErrorHandler.class).error(message, cause);
            System.err.println(message + " Cause: " + cause);
            System.err.flush();
            Runtime.getRuntime().halt(EXIT_STATUS);
        };
    }
}
