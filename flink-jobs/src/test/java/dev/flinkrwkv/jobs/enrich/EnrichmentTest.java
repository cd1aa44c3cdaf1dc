package dev.flinkrwkv.jobs.enrich;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flinkrwkv.jobs.generate.Generation;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

class EnrichmentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void addsOneFieldAndKeepsTheRecord() throws Exception {
        String in = "{\"host\":\"n7\",\"msg\":\"disk full\",\"n\":[1,2],\"rwkv\":\"old\"}";
        String out = new Enrichment("rwkv").enrich(in, 2.5, 9.75, 9, new int[] {10, 32, 0xC3}, new float[] {0.5f, 0.25f, 0.125f},
                3, TokenText::ofByte);
        JsonNode j = JSON.readTree(out);
        assertEquals(List.of("host", "msg", "n", "rwkv"), iterator(j));
        assertEquals("n7", j.get("host").asText());
        assertEquals(2, j.get("n").size());
        JsonNode r = j.get("rwkv");
        assertEquals(2.5, r.get("surprisal_bits").asDouble());
        assertEquals(9.75, r.get("max_bits").asDouble());
        assertEquals(9, r.get("tokens").asInt());
        assertEquals(3, r.get("next").size());
        assertEquals("\n", r.get("next").get(0).get("token").asText());
        assertEquals(10, r.get("next").get(0).get("id").asInt());
        assertEquals(0.5, r.get("next").get(0).get("p").asDouble());
        assertEquals("<0xC3>", r.get("next").get(2).get("token").asText());
        // Fewer than all: k limits the list; no max without per-token detail.
        JsonNode two = JSON.readTree(new Enrichment("x").enrich("{}", 1, Double.NaN, 1, new int[] {65, 66}, new float[] {.6f, .4f}, 1,
                TokenText::ofByte)).get("x");
        assertEquals(1, two.get("next").size());
        assertFalse(two.has("max_bits"));
        assertThrows(IllegalArgumentException.class, () -> new Enrichment("x").enrich("[1]", 1, 1, 1, new int[0], new float[0], 0,
                TokenText::ofByte));
        assertThrows(IllegalArgumentException.class, () -> new Enrichment(""));
    }

    @Test
    void generationJson() throws Exception {
        JsonNode j = JSON.readTree(Generation.toJson("s1", "prompts", 1, 12, 31, "héllo", 6,
                Generation.Stop.STOP_SEQUENCE));
        assertEquals("s1", j.get("key").asText());
        assertEquals(12, j.get("offset").asLong());
        assertEquals(31, j.get("prompt_tokens").asInt());
        assertEquals("héllo", j.get("text").asText());
        assertEquals(6, j.get("tokens").asInt());
        assertEquals("stop_sequence", j.get("stop").asText());
    }

    private static List<String> iterator(JsonNode j) {
        List<String> names = new java.util.ArrayList<>();
        j.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
