package io.capstan.config;

/** A setting that cannot be used; the message names the key and the accepted values. */
public final class ConfigException extends RuntimeException {
    public ConfigException(String message) {
        super(message);
    }
}
