package dev.flinkrwkv.jobs.format;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.format.DeadLetter.Reason;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecordParserTest {
    private static RawRecord raw(String s) {
        return raw(s.getBytes(StandardCharsets.UTF_8));
    }

    private static RawRecord raw(byte[] b) {
        return new RawRecord("logs", 2, 41, b);
    }

    private static ParsedRecord ok(RecordParser p, String s) {
        RecordParser.ParseResult r = p.parse(raw(s));
        assertTrue(r.isOk(), () -> "expected to parse, got " + r.deadLetter());
        assertNull(r.deadLetter());
        return r.record();
    }

    private static DeadLetter dead(RecordParser p, RawRecord raw, Reason reason) {
        RecordParser.ParseResult r = p.parse(raw);
        assertNull(r.record(), () -> "expected a dead letter, got " + r.record());
        assertEquals(reason, r.deadLetter().reason, r.deadLetter().message);
        // A dead letter keeps where the record came from and its exact bytes.
        assertEquals("logs", r.deadLetter().source);
        assertEquals(2, r.deadLetter().partition);
        assertEquals(41, r.deadLetter().offset);
        assertArrayEquals(raw.value == null ? null : raw.value, r.deadLetter().value);
        return r.deadLetter();
    }

    @Test
    void plainLinesShareOneKeyAndLoseTheLineEnd() {
        ParsedRecord r = ok(RecordParser.lines(), "- 1117838570 RAS KERNEL INFO cache parity error corrected\r\n");
        assertEquals(RecordParser.SINGLE_KEY, r.key);
        assertEquals("- 1117838570 RAS KERNEL INFO cache parity error corrected", r.text);
        assertNull(r.json);
        assertEquals("logs", r.source);
        assertEquals(2, r.partition);
        assertEquals(41, r.offset);
    }

    @Test
    void keyByPatternTakesTheNamedGroupThenGroupOneThenTheMatch() {
        String line = "Jun 14 15:16:01 combo sshd[19939]: authentication failure";
        assertEquals("combo", ok(RecordParser.lines().keyByPattern("^\\w+ +\\d+ [\\d:]+ (?<key>\\S+)"), line).key);
        assertEquals("sshd", ok(RecordParser.lines().keyByPattern("(\\w+)\\[\\d+\\]"), line).key);
        assertEquals("sshd[19939]", ok(RecordParser.lines().keyByPattern("\\w+\\[\\d+\\]"), line).key);
    }

    @Test
    void unmatchedKeyPatternIsADeadLetterUnlessADefaultKeyIsGiven() {
        RecordParser p = RecordParser.lines().keyByPattern("host=(\\S+)");
        DeadLetter d = dead(p, raw("no host here"), Reason.NO_KEY);
        assertTrue(d.message.contains("host=(\\S+)"), d.message);
        assertEquals("other", ok(p.defaultKey("other"), "no host here").key);
        assertEquals("a1", ok(p, "x host=a1 y").key);
    }

    @Test
    void jsonRecordsKeepTheWholeObjectAndTakeKeyAndTextFromFields() {
        String in = "{\"host\":\"n7\",\"msg\":{\"text\":\"disk full\"},\"n\":3}";
        ParsedRecord r = ok(RecordParser.json("/msg/text").keyByField("host"), in);
        assertEquals("n7", r.key);
        assertEquals("disk full", r.text);
        assertEquals(in, r.json);
        assertEquals("3", ok(RecordParser.json("/msg/text").keyByField("n"), in).key);
        // A pattern over the text field.
        assertEquals("full", ok(RecordParser.json("/msg/text").keyByPattern("disk (\\w+)"), in).key);
    }

    @Test
    void tooLong() {
        RecordParser p = RecordParser.lines().maxBytes(10);
        assertEquals("0123456789", ok(p, "0123456789").text);
        DeadLetter d = dead(p, raw("0123456789A"), Reason.TOO_LONG);
        assertTrue(d.message.contains("11 bytes") && d.message.contains("10"), d.message);
        assertThrows(IllegalArgumentException.class, () -> RecordParser.lines().maxBytes(0));
    }

    @Test
    void invalidUtf8IsRejectedWithItsByteOffset() {
        byte[] b = {'o', 'k', ' ', (byte) 0xC3, (byte) 0x28, 'x'};
        DeadLetter d = dead(RecordParser.lines(), raw(b), Reason.INVALID_UTF8);
        assertTrue(d.message.contains("byte 3"), d.message);
        // Overlong encodings and lone surrogates are invalid too.
        dead(RecordParser.lines(), raw(new byte[] {(byte) 0xC0, (byte) 0xAF}), Reason.INVALID_UTF8);
        dead(RecordParser.lines(), raw(new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}), Reason.INVALID_UTF8);
        // A truncated sequence at the end.
        dead(RecordParser.json("m"), raw(new byte[] {'{', (byte) 0xE2, (byte) 0x82}), Reason.INVALID_UTF8);
        // Valid multi-byte text passes unchanged.
        assertEquals("naïve → ok", ok(RecordParser.lines(), "naïve → ok").text);
    }

    @Test
    void emptyAndBlank() {
        dead(RecordParser.lines(), raw(""), Reason.EMPTY);
        dead(RecordParser.lines(), raw("\r\n"), Reason.EMPTY);
        dead(RecordParser.lines(), raw(" \t "), Reason.EMPTY);
        dead(RecordParser.lines(), raw((byte[]) null), Reason.EMPTY);
        dead(RecordParser.json("m"), raw("   "), Reason.EMPTY);
        dead(RecordParser.json("m"), raw("{\"m\":\"  \"}"), Reason.EMPTY);
    }

    @Test
    void invalidJson() {
        RecordParser p = RecordParser.json("m");
        DeadLetter d = dead(p, raw("{\"m\": \"x\""), Reason.INVALID_JSON);
        assertTrue(d.message.contains("line 1"), d.message);
        dead(p, raw("{\"m\": \"x\"} trailing"), Reason.INVALID_JSON);
        dead(p, raw("[\"m\"]"), Reason.INVALID_JSON);
        dead(p, raw("\"just a string\""), Reason.INVALID_JSON);
        dead(p, raw("not json at all"), Reason.INVALID_JSON);
    }

    @Test
    void missingAndWrongFields() {
        RecordParser p = RecordParser.json("m").keyByField("k");
        assertTrue(dead(p, raw("{\"k\":\"a\"}"), Reason.MISSING_FIELD).message.contains("'m'"));
        dead(p, raw("{\"k\":\"a\",\"m\":null}"), Reason.MISSING_FIELD);
        assertTrue(dead(p, raw("{\"k\":\"a\",\"m\":5}"), Reason.WRONG_TYPE).message.contains("a number"));
        assertTrue(dead(p, raw("{\"m\":\"x\"}"), Reason.MISSING_FIELD).message.contains("key field 'k'"));
        dead(p, raw("{\"m\":\"x\",\"k\":{\"a\":1}}"), Reason.WRONG_TYPE);
        assertEquals("fallback", ok(RecordParser.json("m").keyByField("k").defaultKey("fallback"), "{\"m\":\"x\"}").key);
        assertThrows(IllegalArgumentException.class, () -> RecordParser.lines().keyByField("k"));
    }

    @Test
    void deadLetterJsonCarriesReasonLocationAndExactBytes() throws Exception {
        byte[] b = {'a', (byte) 0xFF, '\n'};
        DeadLetter d = dead(RecordParser.lines(), raw(b), Reason.INVALID_UTF8);
        JsonNode j = new ObjectMapper().readTree(d.toJson());
        assertEquals("INVALID_UTF8", j.get("reason").asText());
        assertEquals(d.message, j.get("message").asText());
        assertEquals("logs", j.get("source").asText());
        assertEquals(2, j.get("partition").asInt());
        assertEquals(41, j.get("offset").asLong());
        assertArrayEquals(b, Base64.getDecoder().decode(j.get("value_base64").asText()));
    }
}
