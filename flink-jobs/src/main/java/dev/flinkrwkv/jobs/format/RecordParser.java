package dev.flinkrwkv.jobs.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.format.DeadLetter.Reason;

import java.io.Serializable;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns the raw bytes of a record into a {@link ParsedRecord}, or says why it cannot (a {@link DeadLetter}).
 * Serializable configuration, built fluently: {@code RecordParser.lines().keyByPattern("^\\S+ (\\S+)")} or
 * {@code RecordParser.json("message").keyByField("host").maxBytes(8192)}.
 *
 * <p>Checks, in this order (the first that fails names the reason):
 * <ol>
 *   <li>{@link Reason#TOO_LONG}: more bytes than {@link #maxBytes} (checked before decoding, so a huge
 *       record costs nothing more);</li>
 *   <li>{@link Reason#INVALID_UTF8}: a strict decoder, no replacement characters; the message gives the
 *       byte offset;</li>
 *   <li>{@link Reason#EMPTY}: nothing but white space (plain lines lose a trailing CR/LF first);</li>
 *   <li>JSON input only: {@link Reason#INVALID_JSON} (not exactly one JSON object),
 *       {@link Reason#MISSING_FIELD} (the text field is absent or null), {@link Reason#WRONG_TYPE} (it is
 *       not a string), and {@link Reason#EMPTY} for a blank text field;</li>
 *   <li>the key (below): {@link Reason#MISSING_FIELD}, {@link Reason#WRONG_TYPE} or {@link Reason#NO_KEY}.</li>
 * </ol>
 *
 * <p><b>Keys.</b> With no key rule, every record has the key {@value #SINGLE_KEY}: one stream, one state.
 * {@link #keyByField} takes a JSON field (strings as they are, numbers and booleans as written; objects
 * and arrays are {@link Reason#WRONG_TYPE}). {@link #keyByPattern} matches a regular expression against the
 * text (the line, or the text field of a JSON record) and takes the group named {@code key} if the
 * pattern has one, else group 1, else the whole match. <em>A record whose key cannot be found is a dead
 * letter</em> ({@code MISSING_FIELD} or {@code NO_KEY}) rather than silently joining some other key's
 * history, unless a {@link #defaultKey} is given, which such records then take.
 *
 * <p>Fields are named by a top-level name ({@code message}) or a JSON Pointer ({@code /log/message}).
 */
public final class RecordParser implements Serializable {
    private static final long serialVersionUID = 1L;

    /** The key of every record when no key rule is set. */
    public static final String SINGLE_KEY = "default";
    /** The default maximum record size in bytes. */
    public static final int DEFAULT_MAX_BYTES = 64 * 1024;

    private final String textField;   // null: plain lines
    private String keyField;
    private Pattern keyPattern;
    private String defaultKey;
    private int maxBytes = DEFAULT_MAX_BYTES;

    private transient ObjectMapper json;
    private transient CharsetDecoder utf8;

    private RecordParser(String textField) {
        this.textField = textField;
    }

    /** Each record is one line of UTF-8 text. */
    public static RecordParser lines() {
        return new RecordParser(null);
    }

    /** Each record is a JSON object whose text is the string field {@code textField}. */
    public static RecordParser json(String textField) {
        return new RecordParser(Objects.requireNonNull(textField, "textField"));
    }

    /** The key is this JSON field (JSON input only). */
    public RecordParser keyByField(String field) {
        if (textField == null) {
            throw new IllegalArgumentException("a key field needs JSON input; for plain lines use a key pattern");
        }
        this.keyField = field;
        this.keyPattern = null;
        return this;
    }

    /** The key is a group of this regular expression over the text (see the class comment). */
    public RecordParser keyByPattern(String regex) {
        this.keyPattern = Pattern.compile(regex);
        this.keyField = null;
        return this;
    }

    /** The key of records whose key rule finds nothing (without it they are dead letters). */
    public RecordParser defaultKey(String key) {
        this.defaultKey = key;
        return this;
    }

    /** Records longer than this many bytes are dead letters. */
    public RecordParser maxBytes(int bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("the maximum record length must be at least 1 byte, got " + bytes);
        }
        this.maxBytes = bytes;
        return this;
    }

    public int maxBytes() {
        return maxBytes;
    }

    public boolean isJson() {
        return textField != null;
    }

    /** Parses one record; exactly one of the result's two sides is set. */
    public ParseResult parse(RawRecord raw) {
        byte[] bytes = raw.value == null ? new byte[0] : raw.value;
        if (raw.size() > maxBytes) {
            return ParseResult.dead(new DeadLetter(Reason.TOO_LONG,
                    raw.size() + " bytes, over the maximum of " + maxBytes + " (--max-bytes)", raw));
        }
        if (raw.truncated()) {
            return ParseResult.dead(new DeadLetter(Reason.TOO_LONG, raw.size() + " bytes, over the limit of "
                    + bytes.length + " bytes for a Kafka record (the feed sent the first " + bytes.length + ")", raw));
        }
        String decoded;
        try {
            decoded = decodeStrict(bytes);
        } catch (CharacterCodingException e) {
            return ParseResult.dead(new DeadLetter(Reason.INVALID_UTF8, e.getMessage(), raw));
        }
        String text = textField == null ? stripLineEnd(decoded) : decoded;
        if (text.isBlank()) {
            return ParseResult.dead(new DeadLetter(Reason.EMPTY, "the record is empty", raw));
        }
        JsonNode root = null;
        String jsonText = null;
        if (textField != null) {
            jsonText = text;
            try {
                root = mapper().readTree(text);
            } catch (JsonProcessingException e) {
                return ParseResult.dead(new DeadLetter(Reason.INVALID_JSON, e.getOriginalMessage()
                        + " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")", raw));
            }
            if (root == null || !root.isObject()) {
                return ParseResult.dead(new DeadLetter(Reason.INVALID_JSON,
                        "expected a JSON object, got " + (root == null ? "nothing" : root.getNodeType().name().toLowerCase()), raw));
            }
            JsonNode t = field(root, textField);
            if (t.isMissingNode() || t.isNull()) {
                return ParseResult.dead(new DeadLetter(Reason.MISSING_FIELD, "no field '" + textField + "'", raw));
            }
            if (!t.isTextual()) {
                return ParseResult.dead(new DeadLetter(Reason.WRONG_TYPE,
                        "field '" + textField + "' is " + article(t) + ", expected a string", raw));
            }
            text = t.asText();
            if (text.isBlank()) {
                return ParseResult.dead(new DeadLetter(Reason.EMPTY, "field '" + textField + "' is empty", raw));
            }
        }
        String key;
        if (keyField != null) {
            JsonNode k = field(root, keyField);
            if (k.isMissingNode() || k.isNull()) {
                if (defaultKey == null) {
                    return ParseResult.dead(new DeadLetter(Reason.MISSING_FIELD, "no key field '" + keyField + "'", raw));
                }
                key = defaultKey;
            } else if (!k.isValueNode()) {
                return ParseResult.dead(new DeadLetter(Reason.WRONG_TYPE,
                        "key field '" + keyField + "' is " + article(k) + ", expected a string or number", raw));
            } else {
                key = k.asText();
            }
        } else if (keyPattern != null) {
            key = matchKey(text);
            if (key == null) {
                if (defaultKey == null) {
                    return ParseResult.dead(new DeadLetter(Reason.NO_KEY,
                            "the key pattern '" + keyPattern.pattern() + "' does not match", raw));
                }
                key = defaultKey;
            }
        } else {
            key = defaultKey == null ? SINGLE_KEY : defaultKey;
        }
        return ParseResult.ok(new ParsedRecord(key, text, jsonText, raw.source, raw.partition, raw.offset));
    }

    private String matchKey(String text) {
        Matcher m = keyPattern.matcher(text);
        if (!m.find()) {
            return null;
        }
        String g;
        if (keyPattern.pattern().contains("(?<key>")) {
            g = m.group("key");
        } else {
            g = m.groupCount() >= 1 ? m.group(1) : m.group();
        }
        return g == null || g.isEmpty() ? null : g;
    }

    private static JsonNode field(JsonNode root, String name) {
        return name.startsWith("/") ? root.at(name) : root.path(name);
    }

    private static String article(JsonNode n) {
        return switch (n.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            default -> "a " + n.getNodeType().name().toLowerCase();
        };
    }

    /** Drops one trailing LF, CR LF or CR. */
    static String stripLineEnd(String s) {
        int end = s.length();
        if (end > 0 && s.charAt(end - 1) == '\n') {
            end--;
        }
        if (end > 0 && s.charAt(end - 1) == '\r') {
            end--;
        }
        return s.substring(0, end);
    }

    private String decodeStrict(byte[] bytes) throws CharacterCodingException {
        if (utf8 == null) {
            utf8 = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT);
        }
        utf8.reset();
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = utf8.decode(in, out, true);
        if (r.isUnderflow()) {
            r = utf8.flush(out);
        }
        if (r.isError()) {
            throw new InvalidUtf8("invalid UTF-8 at byte " + in.position() + " (" + r.length() + " malformed byte"
                    + (r.length() == 1 ? "" : "s") + ")");
        }
        out.flip();
        return out.toString();
    }

    private ObjectMapper mapper() {
        if (json == null) {
            json = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
        }
        return json;
    }

    /** A decoding error that says where. */
    private static final class InvalidUtf8 extends CharacterCodingException {
        private final String message;

        InvalidUtf8(String message) {
            this.message = message;
        }

        @Override
        public String getMessage() {
            return message;
        }
    }

    /** Either a parsed record or a dead letter. */
    public record ParseResult(ParsedRecord record, DeadLetter deadLetter) {
        static ParseResult ok(ParsedRecord r) {
            return new ParseResult(r, null);
        }

        static ParseResult dead(DeadLetter d) {
            return new ParseResult(null, d);
        }

        public boolean isOk() {
            return record != null;
        }
    }
}
