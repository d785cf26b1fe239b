package io.capstan.operator.spec;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Where a BrokerCluster's {@code spec.image} may come from: the registries (or registry paths) the chart's
 * {@code allowedImageRegistries} lists, or anywhere when it lists none. An image the policy refuses is a spec problem:
 * nothing is rolled. Pure.
 */
public record ImagePolicy(List<String> allowedRegistries) {
    public static final ImagePolicy ANY = new ImagePolicy(List.of());

    public ImagePolicy {
        allowedRegistries = allowedRegistries.stream().map(r -> r.endsWith("/") ? r.substring(0, r.length() - 1) : r).toList();
    }

    /** From the operator's environment: a comma-separated list, empty or absent for any registry. */
    public static ImagePolicy parse(String value) {
        if (value == null || value.isBlank()) {
            return ANY;
        }
        return new ImagePolicy(Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
    }

    public boolean restricts() {
        return !allowedRegistries.isEmpty();
    }

    /** Why {@code image} (a spec.image; null or blank: the operator's own image) may not run, if it may not. */
    public Optional<SpecProblem> check(String image) {
        if (!restricts() || image == null || image.isBlank()) {
            return Optional.empty();
        }
        for (String registry : allowedRegistries) {
            if (image.startsWith(registry + "/")) {
                return Optional.empty();
            }
        }
        return Optional.of(new SpecProblem("spec.image", "'" + image + "' is not from an allowed registry " + allowedRegistries
                + " (the operator's allowedImageRegistries); use an image from one of them or ask the operator's administrator"));
    }
}
