package io.capstan.operator.reconcile;

import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.http.BasicBuilder;
import io.fabric8.kubernetes.client.http.HttpRequest;
import io.fabric8.kubernetes.client.http.Interceptor;

/**
 * Counts the API-server requests a reconcile pass makes on its own thread, so the cost of a pass is a metric and not
 * a guess. Informers and watches run on other threads and are not counted: they are the steady cost, not the pass's.
 */
public final class ApiCalls implements Interceptor {
    private static final ThreadLocal<int[]> PASS = new ThreadLocal<>();

    /** A client builder whose requests are counted. */
    public static KubernetesClientBuilder counting(KubernetesClientBuilder builder) {
        return builder.withHttpClientBuilderConsumer(http -> http.addOrReplaceInterceptor("capstan-api-calls", new ApiCalls()));
    }

    @Override
    public void before(BasicBuilder builder, HttpRequest request, RequestTags tags) {
        int[] count = PASS.get();
        if (count != null) {
            count[0]++;
        }
    }

    /** Starts counting this thread's requests; the returned cell holds the count so far. */
    static int[] start() {
        int[] count = new int[1];
        PASS.set(count);
        return count;
    }

    static void stop() {
        PASS.remove();
    }
}
