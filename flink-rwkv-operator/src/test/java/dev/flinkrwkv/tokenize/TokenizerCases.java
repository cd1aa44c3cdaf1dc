package dev.flinkrwkv.tokenize;

import dev.flinkrwkv.SharedData;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Reads the reference cases in src/test/data/tokenizers: name to (text, ids). */
public final class TokenizerCases {
    private TokenizerCases() {}

    public record Case(String text, int[] ids) {}

    @SuppressWarnings("unchecked")
    public static Map<String, Case> read(String file) throws IOException {
        String json = Files.readString(SharedData.testData("tokenizers").resolve(file), StandardCharsets.UTF_8);
        Map<String, Object> root = (Map<String, Object>) Json.parse(json);
        Map<String, Case> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : root.entrySet()) {
            Map<String, Object> c = (Map<String, Object>) e.getValue();
            List<Object> ids = (List<Object>) c.get("tokens");
            int[] a = new int[ids.size()];
            for (int i = 0; i < a.length; i++) {
                a[i] = ((Long) ids.get(i)).intValue();
            }
            out.put(e.getKey(), new Case((String) c.get("text"), a));
        }
        return out;
    }

    static byte[] serialize(Object o) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(b)) {
            out.writeObject(o);
        }
        return b.toByteArray();
    }

    static Object deserialize(byte[] bytes) throws IOException, ClassNotFoundException {
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
            return in.readObject();
        }
    }
}
