package dev.flinkrwkv.jobs.enrich;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.Serializable;
import java.util.function.IntFunction;

/**
 * The enrich job's output: the input JSON record unchanged, plus one object field (default {@code rwkv})
 * with what the model says about the record's text given the key's history:
 *
 * <pre>
 * {"host":"n7","msg":"disk full", ...,
 *  "rwkv":{"surprisal_bits":2.41,"max_bits":9.8,"tokens":9,"surprisal_bits_per_byte":2.41,"bytes":9,
 *          "next":[{"token":"\n","id":10,"p":0.62},{"token":" ","id":32,"p":0.11}, ...]}}
 * </pre>
 *
 * {@code surprisal_bits} is the text's mean surprisal in bits per token, {@code max_bits} its most
 * surprising token, {@code tokens} how many tokens it has, {@code surprisal_bits_per_byte} the same total
 * surprisal over the text's {@code bytes} UTF-8 bytes (which compares across tokenizers: a World token holds
 * several bytes, a byte-level token one), and {@code next} the top-k most likely next
 * tokens after it with their probabilities, most likely first. An existing field of that name is
 * replaced. Field order of the input is kept.
 */
public final class Enrichment implements Serializable {
    private static final long serialVersionUID = 1L;
    public static final String DEFAULT_FIELD = "rwkv";
    private final String field;
    private transient ObjectMapper json;

    public Enrichment(String field) {
        if (field == null || field.isEmpty()) {
            throw new IllegalArgumentException("the output field name must not be empty");
        }
        this.field = field;
    }

    /**
     * @param record     the input record's JSON object text (already validated by the parser)
     * @param topTokens  the next-token ids, most likely first; {@code topProbs} their probabilities
     */
    public String enrich(String record, double meanBits, double maxBits, int tokens, int[] topTokens, float[] topProbs,
                         int k, IntFunction<String> tokenText) {
        return enrich(record, meanBits, maxBits, tokens, tokens, topTokens, topProbs, k, tokenText);
    }

    /** @param bytes the text's length in UTF-8 bytes (its tokens' count for a byte-level model) */
    public String enrich(String record, double meanBits, double maxBits, int tokens, int bytes, int[] topTokens,
                         float[] topProbs, int k, IntFunction<String> tokenText) {
        if (json == null) {
            json = new ObjectMapper();
        }
        ObjectNode root;
        try {
            root = (ObjectNode) json.readTree(record);
        } catch (JsonProcessingException | ClassCastException e) {
            throw new IllegalArgumentException("not a JSON object: " + e.getMessage(), e);
        }
        ObjectNode o = json.createObjectNode();
        o.put("surprisal_bits", round(meanBits));
        if (!Double.isNaN(maxBits)) {
            o.put("max_bits", round(maxBits));
        }
        o.put("tokens", tokens);
        o.put("surprisal_bits_per_byte", bytes > 0 ? round(meanBits * tokens / bytes) : Double.NaN);
        o.put("bytes", bytes);
        ArrayNode next = o.putArray("next");
        for (int i = 0; i < k; i++) {
            ObjectNode t = next.addObject();
            t.put("token", tokenText.apply(topTokens[i]));
            t.put("id", topTokens[i]);
            t.put("p", round(topProbs[i]));
        }
        root.set(field, o);
        return root.toString();
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e6) / 1e6 : v;
    }
}
