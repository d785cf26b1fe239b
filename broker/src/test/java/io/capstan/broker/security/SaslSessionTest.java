package io.capstan.broker.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.capstan.config.SaslSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.kafka.common.message.SaslAuthenticateRequestData;
import org.apache.kafka.common.message.SaslHandshakeRequestData;
import org.apache.kafka.common.protocol.ApiKeys;
import org.apache.kafka.common.protocol.Errors;

/**
 * The per-connection SASL state machine under any sequence of client messages: nothing but ApiVersions and the SASL
 * exchange before a successful login, nothing at all after a failed one, and a re-authentication that cannot change
 * who the connection is.
 */
class SaslSessionTest {
    enum Step { HANDSHAKE_PLAIN, HANDSHAKE_V0, HANDSHAKE_UNKNOWN, LOGIN_ALICE, LOGIN_BOB, LOGIN_WRONG, ADVANCE_CLOCK }

    private static final SaslMechanisms MECHANISMS = mechanisms();

    private static SaslMechanisms mechanisms() {
        try {
            Path users = Files.createTempFile("plain-users", ".properties");
            Files.writeString(users, "alice=alice-secret\nbob=bob-secret\n");
            users.toFile().deleteOnExit();
            return new SaslMechanisms(null, new PlainCredentials(users), null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] plain(String user, String password) {
        return ("\u0000" + user + "\u0000" + password).getBytes(StandardCharsets.UTF_8);
    }

    @Property(tries = 500)
    void onlyASuccessfulLoginOpensTheConnectionAndAFailureClosesItForGood(@ForAll("steps") List<Step> steps) {
        AtomicLong now = new AtomicLong();
        SaslSession session = new SaslSession(new SaslSettings(List.of("PLAIN"), "users", 1_000, 0, 524288, null), MECHANISMS, now::get);
        boolean failed = false;
        boolean authenticated = false;
        String firstPrincipal = null;
        for (Step step : steps) {
            boolean closeAfter = false;
            switch (step) {
                case HANDSHAKE_PLAIN, HANDSHAKE_V0, HANDSHAKE_UNKNOWN -> {
                    if (!session.allows(ApiKeys.SASL_HANDSHAKE)) {
                        continue; // the network layer would close the connection instead
                    }
                    var reply = session.handshake(new SaslHandshakeRequestData()
                            .setMechanism(step == Step.HANDSHAKE_UNKNOWN ? "GSSAPI" : "PLAIN"), (short) (step == Step.HANDSHAKE_V0 ? 0 : 1));
                    closeAfter = reply.closeAfter();
                    assertThat(closeAfter).isEqualTo(reply.response().errorCode() != Errors.NONE.code());
                }
                case LOGIN_ALICE, LOGIN_BOB, LOGIN_WRONG -> {
                    if (!session.allows(ApiKeys.SASL_AUTHENTICATE)) {
                        continue;
                    }
                    byte[] token = step == Step.LOGIN_ALICE ? plain("alice", "alice-secret")
                            : step == Step.LOGIN_BOB ? plain("bob", "bob-secret") : plain("alice", "guess");
                    var reply = session.authenticate(new SaslAuthenticateRequestData().setAuthBytes(token), (short) 2);
                    closeAfter = reply.closeAfter();
                    if (reply.authenticatedNow()) {
                        authenticated = true;
                        if (firstPrincipal == null) {
                            firstPrincipal = session.principal().toString();
                        }
                        assertThat(session.principal().toString()).as("re-authentication keeps the principal").isEqualTo(firstPrincipal);
                        assertThat(reply.response().sessionLifetimeMs()).isEqualTo(1_000);
                    } else {
                        assertThat(closeAfter).as("a failed exchange closes the connection").isTrue();
                    }
                }
                case ADVANCE_CLOCK -> now.addAndGet(600);
            }
            failed |= closeAfter;
            if (failed) {
                for (ApiKeys api : List.of(ApiKeys.METADATA, ApiKeys.PRODUCE, ApiKeys.SASL_HANDSHAKE, ApiKeys.SASL_AUTHENTICATE)) {
                    assertThat(session.allows(api)).as("after a failure: " + api).isFalse();
                }
                return;
            }
            if (!authenticated) {
                assertThat(session.allows(ApiKeys.METADATA)).as("before any login").isFalse();
                assertThat(session.principal()).isNull();
            } else if (session.allows(ApiKeys.METADATA)) {
                assertThat(session.expired()).as("requests only within the session").isFalse();
            }
            assertThat(session.allows(ApiKeys.API_VERSIONS)).isTrue();
        }
    }

    @Provide
    Arbitrary<List<Step>> steps() {
        return Arbitraries.of(Step.class).list().ofMaxSize(12);
    }
}
