package io.capstan.operator.storage;

import io.capstan.operator.spec.SpecProblem;
import io.fabric8.kubernetes.api.model.Quantity;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What to do when spec.storage and the brokers' volumes disagree. A StatefulSet's volumeClaimTemplates cannot change
 * once it exists (the API server refuses every later apply that tries), so the template keeps what it was created
 * with and volumes grow by resizing each claim, which Kubernetes allows where the claim's StorageClass does; a
 * smaller size or another class cannot be had in place and is refused with the field named. Pure.
 */
public final class VolumePlan {
    private VolumePlan() {}

    /** The StatefulSet's claim template: the size and class (null: the cluster's default) new brokers' volumes get. */
    public record Template(String size, String storageClass) {}

    /**
     * A broker's claim as the API server holds it: the class it was bound with, the size it asks for and the size it
     * has (null before it is bound), and the types of its true conditions (Resizing, FileSystemResizePending, ...).
     */
    public record Claim(String name, String storageClass, String requested, String capacity, List<String> conditions) {
        public Claim {
            conditions = List.copyOf(conditions);
        }
    }

    public enum Phase { Ready, Expanding, Refused }

    /**
     * The template to render, the size asked for (the spec's), the claims to resize (name to size), what is refused (each naming its field), and where the volumes stand.
     */
    public record Decision(Template template, String size, Map<String, String> resize, List<SpecProblem> refused, Phase phase,
                           String message) {
        public Decision {
            resize = Map.copyOf(resize);
            refused = List.copyOf(refused);
        }

        /** This decision with {@code problem} refused too (found only when carrying it out): nothing more is resized. */
        public Decision refusing(SpecProblem problem) {
            List<SpecProblem> all = new ArrayList<>(refused);
            all.add(problem);
            return new Decision(template, size, Map.of(), all, Phase.Refused, String.join("; ", all.stream().map(SpecProblem::toString).toList()));
        }
    }

    /**
     * @param size             spec.storage.size
     * @param storageClass     spec.storage.storageClassName (null: whatever the volumes have)
     * @param existing         the StatefulSet's claim template, null before the StatefulSet exists
     * @param claims           the brokers' claims
     */
    public static Decision decide(String size, String storageClass, Template existing, List<Claim> claims) {
        Template template = existing != null ? existing : new Template(size, storageClass);
        List<SpecProblem> refused = new ArrayList<>();
        String currentClass = existing != null && existing.storageClass() != null ? existing.storageClass()
                : claims.stream().map(Claim::storageClass).filter(Objects::nonNull).findFirst().orElse(null);
        if (storageClass != null && currentClass != null && !storageClass.equals(currentClass)) {
            refused.add(new SpecProblem("spec.storage.storageClassName", "is " + storageClass + " but the brokers' volumes are of class "
                    + currentClass + ", and a volume's class cannot change; set it back to " + currentClass
                    + " (another class needs new volumes: a new cluster, with the data moved by MirrorMaker 2)"));
        }
        BigDecimal want = bytes(size);
        String largest = existing == null ? null : existing.size();
        for (Claim c : claims) {
            if (largest == null || bytes(c.requested()).compareTo(bytes(largest)) > 0) {
                largest = c.requested();
            }
        }
        Map<String, String> resize = new LinkedHashMap<>();
        if (largest != null && want.compareTo(bytes(largest)) < 0) {
            refused.add(new SpecProblem("spec.storage.size", "is " + size + ", smaller than the brokers' volumes (" + largest
                    + "); volumes cannot shrink; set it back to " + largest + " or more"));
        } else if (refused.isEmpty()) {
            for (Claim c : claims) {
                if (want.compareTo(bytes(c.requested())) > 0) {
                    resize.put(c.name(), size);
                }
            }
        }
        return new Decision(template, size, resize, refused, phase(refused, resize, claims), message(refused, resize, claims, size));
    }

    private static Phase phase(List<SpecProblem> refused, Map<String, String> resize, List<Claim> claims) {
        if (!refused.isEmpty()) {
            return Phase.Refused;
        }
        return !resize.isEmpty() || claims.stream().anyMatch(VolumePlan::growing) ? Phase.Expanding : Phase.Ready;
    }

    private static String message(List<SpecProblem> refused, Map<String, String> resize, List<Claim> claims, String size) {
        if (!refused.isEmpty()) {
            return String.join("; ", refused.stream().map(SpecProblem::toString).toList());
        }
        if (claims.isEmpty()) {
            return "no volumes yet";
        }
        List<String> pending = new ArrayList<>();
        for (Claim c : claims) {
            if (resize.containsKey(c.name())) {
                pending.add(c.name() + ": resizing from " + c.requested() + " to " + size);
            } else if (c.capacity() == null) {
                pending.add(c.name() + ": not bound yet");
            } else if (growing(c)) {
                pending.add(c.name() + ": " + c.capacity() + " of " + c.requested()
                        + (c.conditions().isEmpty() ? "" : " (" + String.join(", ", c.conditions()) + ")")
                        + (c.conditions().contains("FileSystemResizePending") ? ", the file system grows when its broker's pod restarts" : ""));
            }
        }
        String head = (claims.size() - pending.size()) + " of " + claims.size() + " volumes at their size";
        return pending.isEmpty() ? head : head + "; " + String.join("; ", pending);
    }

    /** Bound, and asked to be larger than it is: the volume or its file system is still growing. */
    static boolean growing(Claim c) {
        return c.capacity() != null && (bytes(c.capacity()).compareTo(bytes(c.requested())) < 0
                || c.conditions().contains("Resizing") || c.conditions().contains("FileSystemResizePending"));
    }

    private static BigDecimal bytes(String quantity) {
        return Quantity.getAmountInBytes(new Quantity(quantity));
    }
}
