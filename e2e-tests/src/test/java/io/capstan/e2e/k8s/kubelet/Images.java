package io.capstan.e2e.k8s.kubelet;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The images this node can run, as a container runtime's image store would hold them: for each repository and tag, the
 * host folder holding the image's files, the container path they appear under, and the entrypoint used when the pod
 * gives no command. Built from this checkout (no registry or container engine here).
 */
public final class Images {
    /** One image: its files, where the container sees them, and its ENTRYPOINT (container paths). */
    public record Image(String reference, Path root, String containerPath, List<String> entrypoint) {}

    private final Map<String, Image> byReference;

    public Images(List<Image> images) {
        this.byReference = images.stream().collect(java.util.stream.Collectors.toUnmodifiableMap(Image::reference, i -> i));
    }

    public Optional<Image> find(String reference) {
        return Optional.ofNullable(byReference.get(reference));
    }

    public java.util.Set<String> references() {
        return byReference.keySet();
    }

    /**
     * The broker image (docker/broker.Dockerfile: the capstan distribution under /opt/capstan) and the operator image
     * (docker/operator.Dockerfile: its jars under /opt/capstan-operator/lib) for each tag, from this checkout's build.
     */
    public static Images fromCheckout(Path repo, List<String> tags) {
        List<Image> images = new java.util.ArrayList<>();
        for (String tag : tags) {
            images.add(new Image("capstan/broker:" + tag, repo, "/opt/capstan", List.of("/opt/capstan/bin/capstan", "broker")));
            images.add(new Image("capstan/operator:" + tag, repo.resolve("operator").resolve("target"), "/opt/capstan-operator",
                    List.of("java", "-cp", "/opt/capstan-operator/capstan-operator.jar:/opt/capstan-operator/lib/*",
                            "io.capstan.operator.OperatorMain")));
        }
        return new Images(images);
    }

    /** These images plus a broker image of another build of Capstan: its tree, with bin/capstan and its built CLI. */
    public Images withBroker(String tag, Path build) {
        List<Image> all = new java.util.ArrayList<>(byReference.values());
        all.add(new Image("capstan/broker:" + tag, build, "/opt/capstan", List.of("/opt/capstan/bin/capstan", "broker")));
        return new Images(all);
    }

    /** These images plus a broker image whose build is broken: its capstan command exits at once with an error. */
    public Images withBrokenBroker(String tag, Path folder) throws java.io.IOException {
        Path bin = folder.resolve("bin");
        java.nio.file.Files.createDirectories(bin);
        Path script = bin.resolve("capstan");
        java.nio.file.Files.writeString(script, "#!/bin/sh\necho 'capstan " + tag + ": this build is broken (a test image)' >&2\nexit 3\n");
        script.toFile().setExecutable(true);
        List<Image> all = new java.util.ArrayList<>(byReference.values());
        all.add(new Image("capstan/broker:" + tag, folder, "/opt/capstan", List.of("/opt/capstan/bin/capstan", "broker")));
        return new Images(all);
    }
}
