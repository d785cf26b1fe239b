package io.capstan.broker.security;

import io.capstan.config.OAuthSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.capstan.config.ConfigException;
import java.net.URI;
import java.util.HashSet;
import java.util.function.Supplier;
import java.util.List;
import java.util.Set;
import org.apache.kafka.common.security.oauthbearer.OAuthBearerToken;
import org.apache.kafka.common.security.oauthbearer.internals.secured.BasicOAuthBearerToken;
import org.jose4j.jwk.HttpsJwks;
import org.jose4j.jwk.JsonWebKeySet;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.MalformedClaimException;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.jose4j.keys.resolvers.HttpsJwksVerificationKeyResolver;
import org.jose4j.keys.resolvers.JwksVerificationKeyResolver;
import org.jose4j.keys.resolvers.VerificationKeyResolver;
import org.jose4j.lang.JoseException;

/**
 * Checks an OAUTHBEARER token as Kafka's broker-side validator does: a JWT signed by a key of the issuer's JWKS,
 * unexpired (within the clock skew), from the expected issuer, for the expected audience, naming the principal in
 * the configured claim. A JWKS file is re-read when its content changes (key rotation, {@link ReloadingFiles}); an
 * https JWKS is fetched and cached
 * by jose4j, which refetches on an unknown key id.
 */
public final class JwtValidator {
    /** Why a token was refused; its message goes to the broker log, never to the client. */
    public static final class InvalidTokenException extends Exception {
        InvalidTokenException(String message) {
            super(message);
        }
    }

    private final OAuthSettings settings;
    private final Supplier<JwtConsumer> consumer;

    public JwtValidator(OAuthSettings settings) {
        this.settings = settings;
        if (settings.jwksUrl().startsWith("file:")) {
            Path jwks = Path.of(URI.create(settings.jwksUrl()));
            this.consumer = new ReloadingFiles<>("JWKS " + settings.jwksUrl(), List.of(jwks), () -> fileConsumer(jwks),
                    System::currentTimeMillis, 1_000)::current;
        } else {
            JwtConsumer https = consumer(new HttpsJwksVerificationKeyResolver(new HttpsJwks(settings.jwksUrl())));
            this.consumer = () -> https;
        }
    }

    private JwtConsumer fileConsumer(Path jwks) {
        try {
            return consumer(new JwksVerificationKeyResolver(new JsonWebKeySet(Files.readString(jwks, StandardCharsets.UTF_8)).getJsonWebKeys()));
        } catch (IOException | JoseException e) {
            throw new ConfigException("cannot read the JWKS at " + settings.jwksUrl() + ": " + e.getMessage());
        }
    }

    public OAuthBearerToken validate(String jwt) throws InvalidTokenException {
        JwtClaims claims;
        try {
            claims = consumer.get().processToClaims(jwt);
        } catch (InvalidJwtException e) {
            // the details name what failed (signature, exp, iss, aud) without echoing the token into the log
            throw new InvalidTokenException(e.getErrorDetails().isEmpty() ? "invalid JWT"
                    : String.join("; ", e.getErrorDetails().stream().map(d -> d.getErrorMessage().replaceAll("eyJ[\\w.-]+", "<token>")).toList()));
        }
        try {
            String principal = claims.getClaimValueAsString(settings.principalClaim());
            if (principal == null || principal.isBlank()) {
                throw new InvalidTokenException("the token has no " + settings.principalClaim() + " claim to name the principal");
            }
            Set<String> scope = new HashSet<>();
            Object scopeClaim = claims.getClaimValue(settings.scopeClaim());
            if (scopeClaim instanceof String s) {
                scope.addAll(List.of(s.split(" ")));
            } else if (scopeClaim instanceof List<?> list) {
                list.forEach(v -> scope.add(String.valueOf(v)));
            }
            Long issuedAt = claims.getIssuedAt() == null ? null : claims.getIssuedAt().getValueInMillis();
            return new BasicOAuthBearerToken(jwt, scope, claims.getExpirationTime().getValueInMillis(), principal, issuedAt);
        } catch (MalformedClaimException e) {
            throw new InvalidTokenException("malformed claim: " + e.getMessage());
        }
    }

    private JwtConsumer consumer(VerificationKeyResolver keys) {
        JwtConsumerBuilder b = new JwtConsumerBuilder()
                .setVerificationKeyResolver(keys)
                .setRequireExpirationTime()
                .setAllowedClockSkewInSeconds(settings.clockSkewSeconds());
        if (settings.principalClaim().equals("sub")) {
            b.setRequireSubject();
        }
        if (!settings.expectedIssuer().isEmpty()) {
            b.setExpectedIssuer(settings.expectedIssuer());
        }
        if (settings.expectedAudience().isEmpty()) {
            b.setSkipDefaultAudienceValidation();
        } else {
            b.setExpectedAudience(settings.expectedAudience().toArray(String[]::new));
        }
        return b.build();
    }
}
