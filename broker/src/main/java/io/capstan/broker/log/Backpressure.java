package io.capstan.broker.log;

/**
 * A shared limit on work accepted but not yet done (bytes waiting for the log). While it is exceeded, connections
 * stop reading requests; they resume when the backlog has drained below the low mark.
 */
public interface Backpressure {
    boolean overloaded();

    /** Runs {@code resume} once the backlog has drained (immediately if it already has). */
    void whenRelieved(Runnable resume);

    Backpressure NONE = new Backpressure() {
        @Override
        public boolean overloaded() {
            return false;
        }

        @Override
        public void whenRelieved(Runnable resume) {
            resume.run();
        }
    };
}
