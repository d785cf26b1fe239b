package io.capstan.e2e.k8s.kubelet;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a container would see through its mount and network namespaces, applied to the strings it is given instead:
 * each container path (a volume's mountPath, the image's own files) becomes the host folder behind it, and the
 * wildcard address becomes the pod's IP (inside a pod's network namespace, binding 0.0.0.0 binds only the pod's
 * address). Applied to the command, the arguments, the environment and mounted ConfigMap files.
 */
public record ContainerView(Map<String, Path> mounts, String podIp) {
    public ContainerView {
        // longest container path first, so /var/lib/capstan/data is not taken for /var/lib/capstan
        Map<String, Path> ordered = new LinkedHashMap<>();
        mounts.entrySet().stream().sorted(Comparator.comparingInt((Map.Entry<String, Path> e) -> e.getKey().length()).reversed())
                .forEach(e -> ordered.put(stripSlash(e.getKey()), e.getValue()));
        mounts = java.util.Collections.unmodifiableMap(ordered);
    }

    /**
     * One pass from left to right: a host path put in is never read again, so a checkout under /tmp is not taken for
     * a container's /tmp volume.
     */
    public String translate(String s) {
        StringBuilder b = new StringBuilder();
        int i = 0;
        scan:
        while (i < s.length()) {
            if (i == 0 || !isPathChar(s.charAt(i - 1))) {
                for (var m : mounts.entrySet()) {
                    String path = m.getKey();
                    int end = i + path.length();
                    if (s.startsWith(path, i) && (end == s.length() || s.charAt(end) == '/' || !isPathChar(s.charAt(end)))) {
                        b.append(m.getValue());
                        i = end;
                        continue scan;
                    }
                }
            }
            b.append(s.charAt(i++));
        }
        return b.toString().replace("0.0.0.0", podIp);
    }

    public List<String> translate(List<String> values) {
        List<String> out = new ArrayList<>(values.size());
        values.forEach(v -> out.add(translate(v)));
        return out;
    }

    private static boolean isPathChar(char c) {
        return Character.isLetterOrDigit(c) || c == '-' || c == '_' || c == '.';
    }

    private static String stripSlash(String p) {
        return p.length() > 1 && p.endsWith("/") ? p.substring(0, p.length() - 1) : p;
    }

    /**
     * Kubernetes' $(VAR) expansion in command, args and env values: a defined variable is replaced, $$ escapes, an
     * undefined reference stays as written.
     */
    public static String expand(String s, Map<String, String> env) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '$' && i + 1 < s.length() && s.charAt(i + 1) == '$') {
                b.append('$');
                i++;
            } else if (c == '$' && i + 1 < s.length() && s.charAt(i + 1) == '(') {
                int close = s.indexOf(')', i + 2);
                String name = close < 0 ? null : s.substring(i + 2, close);
                if (name != null && env.containsKey(name)) {
                    b.append(env.get(name));
                    i = close;
                } else {
                    b.append(c);
                }
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
