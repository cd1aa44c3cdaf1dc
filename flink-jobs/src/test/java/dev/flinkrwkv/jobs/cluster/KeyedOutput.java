package dev.flinkrwkv.jobs.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.ArrayList;

/**
 * score-logs' committed output, per key in the order the key's records were written (a key's records share
 * one partition of the output topic), so that two runs can be compared record for record: the same lines,
 * each once, with the same scores, in the same order.
 */
final class KeyedOutput {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** key -> the key's output records (their JSON) in order. */
    final Map<String, List<String>> byKey = new LinkedHashMap<>();
    int records;

    /**
     * Appends a topic's records (read_committed, per partition in offset order), e.g. a resumed job's after the
     * first. The input topic's name ({@code source}) is left out: runs fed the same lines in the same order
     * through different topics are compared by partition and offset.
     */
    KeyedOutput add(List<ConsumerRecord<byte[], byte[]>> topic) {
        for (ConsumerRecord<byte[], byte[]> r : topic) {
            String json = withoutSource(new String(r.value(), StandardCharsets.UTF_8));
            byKey.computeIfAbsent(field(json, "key"), k -> new ArrayList<>()).add(json);
            records++;
        }
        return this;
    }

    /** What differs from {@code reference}, a failure-free run's output. */
    Difference against(KeyedOutput reference) {
        Map<String, String> expected = new HashMap<>();
        for (List<String> l : reference.byKey.values()) {
            for (String json : l) {
                expected.put(inputPosition(json), json);
            }
        }
        Set<String> seen = new HashSet<>();
        int duplicates = 0;
        int changed = 0;
        for (List<String> l : byKey.values()) {
            for (String json : l) {
                String at = inputPosition(json);
                if (!seen.add(at)) {
                    duplicates++;
                } else if (expected.containsKey(at) && !expected.get(at).equals(json)) {
                    changed++;
                }
            }
        }
        int missing = 0;
        for (String at : expected.keySet()) {
            if (!seen.contains(at)) {
                missing++;
            }
        }
        int unexpected = 0;
        for (String at : seen) {
            if (!expected.containsKey(at)) {
                unexpected++;
            }
        }
        return new Difference(duplicates, missing, changed, unexpected, byKey.equals(reference.byKey));
    }

    /**
     * @param duplicates   records of an input line already output before
     * @param missing      input lines the reference scored and this run did not
     * @param changed      lines scored differently (score, baseline, ...) than in the reference
     * @param unexpected   lines the reference did not score at all
     * @param sameSequence every key's records equal the reference's, in the same order
     */
    record Difference(int duplicates, int missing, int changed, int unexpected, boolean sameSequence) {}

    private static String withoutSource(String json) {
        try {
            com.fasterxml.jackson.databind.node.ObjectNode o = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(json);
            o.remove("source");
            return JSON.writeValueAsString(o);
        } catch (IOException e) {
            throw new UncheckedIOException("not score-logs output: " + json, e);
        }
    }

    /** Where the scored line was read: input partition and offset. */
    private static String inputPosition(String json) {
        return field(json, "partition") + "@" + field(json, "offset");
    }

    private static String field(String json, String name) {
        try {
            JsonNode n = JSON.readTree(json);
            return n.path(name).asText();
        } catch (IOException e) {
            throw new UncheckedIOException("not score-logs output: " + json, e);
        }
    }
}
