package io.capstan.broker.admin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * Who may use the admin port's state-changing endpoints: a caller presenting {@code Authorization: Bearer <token>}
 * with the token in {@code admin.token.file} (re-read on every call, so rotating the file needs no restart). With no
 * token file, a broker whose Kafka listeners are secured refuses these calls outright; an unsecured one (a laptop,
 * a test) accepts them.
 */
final class AdminToken {
    /** The outcome of checking one request. */
    enum Verdict { ALLOWED, MISSING_OR_WRONG, NOT_CONFIGURED }

    private final Path file;
    private final boolean secured;

    AdminToken(Path file, boolean secured) {
        this.file = file;
        this.secured = secured;
    }

    Verdict check(String authorizationHeader) {
        if (file == null) {
            return secured ? Verdict.NOT_CONFIGURED : Verdict.ALLOWED;
        }
        String expected;
        try {
            expected = Files.readString(file, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return Verdict.NOT_CONFIGURED;
        }
        if (expected.isEmpty() || authorizationHeader == null || !authorizationHeader.startsWith("Bearer ")) {
            return expected.isEmpty() ? Verdict.NOT_CONFIGURED : Verdict.MISSING_OR_WRONG;
        }
        byte[] given = authorizationHeader.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8);
        return MessageDigest.isEqual(given, expected.getBytes(StandardCharsets.UTF_8)) ? Verdict.ALLOWED : Verdict.MISSING_OR_WRONG;
    }
}
