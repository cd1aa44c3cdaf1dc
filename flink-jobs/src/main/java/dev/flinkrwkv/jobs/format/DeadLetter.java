package dev.flinkrwkv.jobs.format;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/**
 * A record the job could not use, with why: it goes to the dead-letter topic (or file) and the job goes on.
 * A Flink POJO; {@link #toJson()} is what is written:
 *
 * <pre>{"reason":"INVALID_JSON","message":"…","source":"logs","partition":0,"offset":41,
 *  "value_base64":"…"}</pre>
 *
 * <p>{@code reason} is a {@link Reason} name (stable, for routing and counting), {@code message} says
 * what was wrong in words, {@code source}/{@code partition}/{@code offset} locate the record as in
 * {@link RawRecord}, and {@code value_base64} holds the original bytes exactly (base64, since they may not
 * be text at all).
 */
public class DeadLetter {
    /** Why a record was rejected. */
    public enum Reason {
        /** The bytes are not valid UTF-8. */
        INVALID_UTF8,
        /** Nothing to read: an empty or blank line or text field. */
        EMPTY,
        /** The record is longer than the configured maximum. */
        TOO_LONG,
        /** The value is not one well-formed JSON object. */
        INVALID_JSON,
        /** A configured field is absent or null. */
        MISSING_FIELD,
        /** A configured field is present but not a string (or a number, for a key). */
        WRONG_TYPE,
        /** The key pattern did not match and no default key is configured. */
        NO_KEY,
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    public Reason reason;
    public String message;
    public String source;
    public int partition;
    public long offset;
    public byte[] value;

    public DeadLetter() {}

    public DeadLetter(Reason reason, String message, RawRecord raw) {
        this.reason = reason;
        this.message = message;
        this.source = raw.source;
        this.partition = raw.partition;
        this.offset = raw.offset;
        this.value = raw.value;
    }

    /** The record as one line of JSON. */
    public String toJson() {
        ObjectNode o = JSON.createObjectNode();
        o.put("reason", reason.name());
        o.put("message", message);
        o.put("source", source);
        o.put("partition", partition);
        o.put("offset", offset);
        o.put("value_base64", value == null ? "" : Base64.getEncoder().encodeToString(value));
        return o.toString();
    }

    public byte[] toJsonBytes() {
        return toJson().getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeadLetter d && reason == d.reason && toJson().equals(d.toJson());
    }

    @Override
    public int hashCode() {
        return Objects.hash(reason, message, source, partition, offset);
    }

    @Override
    public String toString() {
        return toJson();
    }
}
