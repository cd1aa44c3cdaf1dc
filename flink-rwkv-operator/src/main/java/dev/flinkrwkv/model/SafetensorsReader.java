package dev.flinkrwkv.model;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the tensors of a safetensors file: an 8-byte little-endian header length N, N bytes of JSON
 * ({@code {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ..., "__metadata__": {..}}},
 * offsets relative to the end of the header), then the data, which is memory-mapped, never copied.
 */
final class SafetensorsReader {
    /** A header larger than this is no RWKV model's (the format's own readers cap it at 100 MB). */
    private static final long MAX_HEADER = 100L << 20;

    private SafetensorsReader() {}

    /** Whether the first bytes look like a safetensors file: a plausible header length, then '{'. */
    static boolean looksLike(ByteBuffer first16) {
        if (first16.limit() < 9) {
            return false;
        }
        long n = first16.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        return n > 1 && n <= MAX_HEADER && first16.get(8) == '{';
    }

    /** The file's tensors, in the header's order. */
    static List<CheckpointTensor> read(Path path, FileChannel ch) throws IOException {
        long size = ch.size();
        if (size < 8) {
            throw new ModelFormatException(path, "a safetensors file needs an 8-byte header length; the file has "
                    + size + " bytes");
        }
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        while (len.hasRemaining() && ch.read(len, len.position()) >= 0) {
            // read fully
        }
        long n = len.getLong(0);
        if (n < 2 || n > size - 8) {
            throw new ModelFormatException(path, "safetensors header length " + Long.toUnsignedString(n)
                    + " reaches beyond the end of the " + size + "-byte file (truncated or not a safetensors file)");
        }
        if (n > MAX_HEADER) {
            throw new ModelFormatException(path, "safetensors header of " + n + " bytes is too large");
        }
        ByteBuffer header = ch.map(FileChannel.MapMode.READ_ONLY, 8, n);
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT).decode(header).toString();
        } catch (CharacterCodingException e) {
            throw new ModelFormatException(path, "safetensors header is not UTF-8");
        }
        Object root;
        try {
            root = new Json(json).document();
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(path, "safetensors header is not valid JSON: " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> entries)) {
            throw new ModelFormatException(path, "safetensors header is not a JSON object");
        }
        long dataStart = 8 + n;
        long dataSize = size - dataStart;
        List<CheckpointTensor> out = new ArrayList<>();
        for (Map.Entry<?, ?> e : entries.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                continue;
            }
            try {
                out.add(tensor(path, ch, name, e.getValue(), dataStart, dataSize));
            } catch (ArithmeticException overflow) {
                throw new ModelFormatException(path, "tensor '" + name + "' has a shape too large for any file");
            }
        }
        return out;
    }

    private static CheckpointTensor tensor(Path path, FileChannel ch, String name, Object info, long dataStart,
                                           long dataSize) throws IOException {
        if (!(info instanceof Map<?, ?> m) || !(m.get("dtype") instanceof String dtype)
                || !(m.get("shape") instanceof List<?> shapeList) || !(m.get("data_offsets") instanceof List<?> offsets)
                || offsets.size() != 2) {
            throw new ModelFormatException(path, "safetensors entry '" + name + "' lacks dtype, shape or data_offsets");
        }
        CheckpointTensor.Dtype dt;
        switch (dtype) {
            case "F32": dt = CheckpointTensor.Dtype.F32; break;
            case "F16": dt = CheckpointTensor.Dtype.F16; break;
            case "BF16": dt = CheckpointTensor.Dtype.BF16; break;
            default:
                throw new ModelFormatException(path, "tensor '" + name + "' has dtype " + dtype
                        + "; supported: F32, F16, BF16");
        }
        long[] shape = new long[shapeList.size()];
        long elements = 1;
        for (int i = 0; i < shape.length; i++) {
            if (!(shapeList.get(i) instanceof Long d) || d < 0 || d > Integer.MAX_VALUE) {
                throw new ModelFormatException(path, "tensor '" + name + "' has a bad shape " + shapeList);
            }
            shape[i] = d;
            elements = Math.multiplyExact(elements, d);
        }
        if (!(offsets.get(0) instanceof Long begin) || !(offsets.get(1) instanceof Long end) || begin < 0 || end < begin) {
            throw new ModelFormatException(path, "tensor '" + name + "' has bad data_offsets " + offsets);
        }
        if (end > dataSize) {
            throw new ModelFormatException(path, "tensor '" + name + "' ends at data byte " + end + ", past the "
                    + dataSize + " data bytes of the file (truncated)");
        }
        if (end - begin != Math.multiplyExact(elements, dt.bytes)) {
            throw new ModelFormatException(path, "tensor '" + name + "' has " + (end - begin) + " bytes for shape "
                    + shapeList + " of " + dtype + " (" + elements * dt.bytes + " expected)");
        }
        if (end - begin > Integer.MAX_VALUE) {
            throw new ModelFormatException(path, "tensor '" + name + "' is over 2 GiB, which this reader cannot map");
        }
        ByteBuffer data = ch.map(FileChannel.MapMode.READ_ONLY, dataStart + begin, end - begin);
        return new CheckpointTensor(name, dt, shape, data);
    }

    /** A minimal JSON reader (objects keep their order; integers as Long, other numbers as Double). */
    private static final class Json {
        private static final int MAX_DEPTH = 64;
        private final String s;
        private int i;

        Json(String s) {
            this.s = s;
        }

        Object document() {
            Object v = value(0);
            ws();
            if (i != s.length()) {
                throw new IllegalArgumentException("text after the value at character " + i);
            }
            return v;
        }

        private void ws() {
            while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
                i++;
            }
        }

        private IllegalArgumentException bad(String what) {
            return new IllegalArgumentException(what + " at character " + i);
        }

        private Object value(int depth) {
            if (depth > MAX_DEPTH) {
                throw bad("nesting too deep");
            }
            ws();
            if (i >= s.length()) {
                throw bad("unexpected end");
            }
            char c = s.charAt(i);
            switch (c) {
                case '{': {
                    i++;
                    Map<String, Object> m = new LinkedHashMap<>();
                    ws();
                    if (i < s.length() && s.charAt(i) == '}') {
                        i++;
                        return m;
                    }
                    while (true) {
                        ws();
                        if (i >= s.length() || s.charAt(i) != '"') {
                            throw bad("expected a key");
                        }
                        String k = string();
                        ws();
                        expect(':');
                        if (m.put(k, value(depth + 1)) != null) {
                            throw bad("duplicate key '" + k + "'");
                        }
                        ws();
                        if (i < s.length() && s.charAt(i) == ',') {
                            i++;
                            continue;
                        }
                        expect('}');
                        return m;
                    }
                }
                case '[': {
                    i++;
                    List<Object> l = new ArrayList<>();
                    ws();
                    if (i < s.length() && s.charAt(i) == ']') {
                        i++;
                        return l;
                    }
                    while (true) {
                        l.add(value(depth + 1));
                        ws();
                        if (i < s.length() && s.charAt(i) == ',') {
                            i++;
                            continue;
                        }
                        expect(']');
                        return l;
                    }
                }
                case '"':
                    return string();
                case 't':
                    return literal("true", Boolean.TRUE);
                case 'f':
                    return literal("false", Boolean.FALSE);
                case 'n':
                    return literal("null", null);
                default:
                    return number();
            }
        }

        private void expect(char c) {
            if (i >= s.length() || s.charAt(i) != c) {
                throw bad("expected '" + c + "'");
            }
            i++;
        }

        private Object literal(String word, Object v) {
            if (!s.startsWith(word, i)) {
                throw bad("unexpected token");
            }
            i += word.length();
            return v;
        }

        private Object number() {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            String t = s.substring(start, i);
            if (t.isEmpty()) {
                throw bad("unexpected character");
            }
            try {
                return t.matches("-?\\d+") ? (Object) Long.parseLong(t) : (Object) Double.parseDouble(t);
            } catch (NumberFormatException e) {
                throw bad("bad number '" + t + "'");
            }
        }

        private String string() {
            i++; // opening quote
            StringBuilder sb = new StringBuilder();
            while (true) {
                if (i >= s.length()) {
                    throw bad("unterminated string");
                }
                char c = s.charAt(i++);
                if (c == '"') {
                    return sb.toString();
                }
                if (c != '\\') {
                    sb.append(c);
                    continue;
                }
                if (i >= s.length()) {
                    throw bad("unterminated string");
                }
                char e = s.charAt(i++);
                switch (e) {
                    case '"': case '\\': case '/': sb.append(e); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u':
                        if (i + 4 > s.length()) {
                            throw bad("bad \\u escape");
                        }
                        try {
                            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        } catch (NumberFormatException ex) {
                            throw bad("bad \\u escape");
                        }
                        i += 4;
                        break;
                    default:
                        throw bad("bad escape \\" + e);
                }
            }
        }
    }
}
