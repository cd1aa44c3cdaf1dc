package dev.flinkrwkv.jobs.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;


/**
 * The generate job's output for one prompt:
 *
 * <pre>{"key":"session-7","source":"prompts","partition":0,"offset":12,
 *  "prompt_tokens":31,"text":"…","tokens":64,"stop":"max_tokens"}</pre>
 *
 * {@code key} is the session, {@code source}/{@code partition}/{@code offset} locate the prompt record,
 * {@code text} is the generated continuation (complete UTF-8 characters, without the stop text), {@code tokens} how many were generated and {@code stop} why generation ended:
 * {@code stop_sequence} or {@code max_tokens}.
 */
public final class Generation {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Why generation ended. */
    public enum Stop {
        STOP_SEQUENCE, MAX_TOKENS;

        public String jsonName() {
            return name().toLowerCase();
        }
    }

    private Generation() {}

    public static String toJson(String key, String source, int partition, long offset, int promptTokens, String text,
                                int tokens, Stop stop) {
        ObjectNode o = JSON.createObjectNode();
        o.put("key", key);
        o.put("source", source);
        o.put("partition", partition);
        o.put("offset", offset);
        o.put("prompt_tokens", promptTokens);
        o.put("text", text);
        o.put("tokens", tokens);
        o.put("stop", stop.jsonName());
        return o.toString();
    }
}
