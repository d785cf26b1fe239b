package io.capstan.config;

import java.util.List;

/**
 * How OAUTHBEARER tokens are checked, with Kafka's setting names: the JWKS holding the issuer's public keys (a
 * {@code file:} or {@code https:} URL), the expected issuer and audience, the claim naming the principal, and the
 * clock skew tolerated on expiry and not-before.
 */
public record OAuthSettings(String jwksUrl, String expectedIssuer, List<String> expectedAudience, String principalClaim,
                            String scopeClaim, int clockSkewSeconds) {
    public OAuthSettings {
        if (jwksUrl.isEmpty()) {
            throw new ConfigException("SASL OAUTHBEARER needs sasl.oauthbearer.jwks.endpoint.url (file:/path/jwks.json or"
                    + " https://issuer/.well-known/jwks.json)");
        }
        if (!jwksUrl.startsWith("file:") && !jwksUrl.startsWith("https://")) {
            throw new ConfigException("sasl.oauthbearer.jwks.endpoint.url must be a file: or https:// URL, got '" + jwksUrl + "'");
        }
        if (clockSkewSeconds < 0) {
            throw new ConfigException("sasl.oauthbearer.clock.skew.seconds must be >= 0");
        }
        expectedAudience = List.copyOf(expectedAudience);
    }
}
