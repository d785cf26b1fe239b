package io.capstan.operator.spec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ImagePolicyTest {
    @Test
    void withoutAListAnyImageRuns() {
        ImagePolicy any = ImagePolicy.parse("");
        assertThat(any.restricts()).isFalse();
        assertThat(any.check("evil.example.org/broker:1")).isEmpty();
        assertThat(ImagePolicy.parse(null)).isEqualTo(ImagePolicy.ANY);
    }

    @Test
    void anImageMustComeFromAListedRegistryOrPath() {
        ImagePolicy policy = ImagePolicy.parse(" registry.example.com , ghcr.io/acme/ ");
        assertThat(policy.allowedRegistries()).containsExactly("registry.example.com", "ghcr.io/acme");
        assertThat(policy.check("registry.example.com/capstan/broker:0.2.0")).isEmpty();
        assertThat(policy.check("ghcr.io/acme/broker:1")).isEmpty();
        assertThat(policy.check("ghcr.io/acmecorp/broker:1")).as("a path, not a prefix of a name").isPresent();
        assertThat(policy.check("registry.example.com.evil.org/broker:1")).isPresent();
        assertThat(policy.check("capstan/broker:0.1.0")).get().satisfies(p -> {
            assertThat(p.field()).isEqualTo("spec.image");
            assertThat(p.message()).contains("registry.example.com").contains("allowedImageRegistries");
        });
        assertThat(policy.check(null)).as("no spec.image: the image spec.version names").isEmpty();
    }
}
