package io.capstan.broker.log;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.common.Uuid;

/** A topic as persisted: name, id, the storage key of each shard (partition i has shardKeys[i]) and its configs. */
public record TopicMeta(String name, Uuid id, List<Integer> shardKeys, Map<String, String> configs) {

    public TopicMeta {
        shardKeys = List.copyOf(shardKeys);
        configs = Map.copyOf(configs);
    }

    public int partitions() {
        return shardKeys.size();
    }

    public byte[] encode() {
        Properties p = new Properties();
        p.setProperty("name", name);
        p.setProperty("id", id.toString());
        p.setProperty("shards", String.join(",", shardKeys.stream().map(String::valueOf).toList()));
        configs.forEach((k, v) -> p.setProperty("config." + k, v));
        StringWriter w = new StringWriter();
        try {
            p.store(w, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return w.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static TopicMeta decode(byte[] bytes) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(new String(bytes, StandardCharsets.UTF_8)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<Integer> shards = Arrays.stream(p.getProperty("shards").split(",")).map(Integer::valueOf).toList();
        Map<String, String> configs = new TreeMap<>();
        p.stringPropertyNames().stream().filter(k -> k.startsWith("config."))
                .forEach(k -> configs.put(k.substring("config.".length()), p.getProperty(k)));
        return new TopicMeta(p.getProperty("name"), Uuid.fromString(p.getProperty("id")), shards, configs);
    }
}
