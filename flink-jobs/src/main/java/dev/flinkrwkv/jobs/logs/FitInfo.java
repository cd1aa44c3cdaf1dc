package dev.flinkrwkv.jobs.logs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code fit} measured of a model it wrote, kept beside the model as {@code MODEL.bin.json}:
 *
 * <pre>
 * {"model":"model.bin","steps":400,"model_step":300,"kept":"best held-out",
 *  "train_bits_per_byte":0.93,"held_out_bits_per_byte":1.24,"train_bytes":1800000,"held_out_bytes":95000,
 *  "overfitting":false,"layers":2,"embed":64,"head_size":32,"context":64,"type":"FP32","normalize":"none",
 *  "input_lines":904,"left_out":"2/3"}
 * </pre>
 *
 * {@code train_bits_per_byte} and {@code held_out_bits_per_byte} are the model's mean loss, in bits per
 * byte, on (up to {@code --eval-bytes} of) its training text and on the held-out tail; null when there was
 * nothing to measure. score-logs reads the file to tell when a stream is far from what the model was
 * fitted to ({@link FitCheck}). {@code normalize} is what every line went through before the model read it
 * ({@link LineNormalizer}); eval-logs and score-logs apply the same to the lines they score (a file without
 * it: {@code none}). {@code left_out} is {@code fit --leave-out}'s block ({@link LeaveOut}) of the
 * {@code input_lines} lines fitted to (absent: none left out); eval-logs reads it to know which lines a model
 * never saw.
 */
public record FitInfo(long steps, long modelStep, String kept, double trainBitsPerByte, double heldOutBitsPerByte,
                      long trainBytes, long heldOutBytes, boolean overfitting, int layers, int embed, int headSize,
                      int context, String type, LineNormalizer normalize, long inputLines, LeaveOut leftOut) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Nothing left out of the input. */
    public FitInfo(long steps, long modelStep, String kept, double trainBitsPerByte, double heldOutBitsPerByte,
                   long trainBytes, long heldOutBytes, boolean overfitting, int layers, int embed, int headSize,
                   int context, String type, LineNormalizer normalize) {
        this(steps, modelStep, kept, trainBitsPerByte, heldOutBitsPerByte, trainBytes, heldOutBytes, overfitting, layers,
                embed, headSize, context, type, normalize, 0, null);
    }

    /** Lines read as they are ({@link LineNormalizer#NONE}). */
    public FitInfo(long steps, long modelStep, String kept, double trainBitsPerByte, double heldOutBitsPerByte,
                   long trainBytes, long heldOutBytes, boolean overfitting, int layers, int embed, int headSize,
                   int context, String type) {
        this(steps, modelStep, kept, trainBitsPerByte, heldOutBitsPerByte, trainBytes, heldOutBytes, overfitting, layers,
                embed, headSize, context, type, LineNormalizer.NONE);
    }

    /** The metadata file of {@code model}: its name with {@code .json} added. */
    public static Path pathFor(Path model) {
        return model.resolveSibling(model.getFileName() + ".json");
    }

    public void write(Path model) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("model", model.getFileName().toString());
        o.put("steps", steps);
        o.put("model_step", modelStep);
        o.put("kept", kept);
        putBits(o, "train_bits_per_byte", trainBitsPerByte);
        putBits(o, "held_out_bits_per_byte", heldOutBitsPerByte);
        o.put("train_bytes", trainBytes);
        o.put("held_out_bytes", heldOutBytes);
        o.put("overfitting", overfitting);
        o.put("layers", layers);
        o.put("embed", embed);
        o.put("head_size", headSize);
        o.put("context", context);
        o.put("type", type);
        o.put("normalize", normalize.label());
        if (inputLines > 0) {
            o.put("input_lines", inputLines);
        }
        if (leftOut != null) {
            o.put("left_out", leftOut.label());
        }
        Files.writeString(pathFor(model), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n");
    }

    /** The metadata beside {@code model}, or null where there is none (a model not written by fit). */
    public static FitInfo read(Path model) throws IOException {
        Path p = pathFor(model);
        if (!Files.isRegularFile(p)) {
            return null;
        }
        JsonNode o;
        try {
            o = JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new IOException(p + " is not the JSON that fit writes: " + e.getMessage(), e);
        }
        if (o == null || !o.isObject()) {
            throw new IOException(p + " is not the JSON that fit writes");
        }
        return new FitInfo(o.path("steps").asLong(), o.path("model_step").asLong(), o.path("kept").asText(),
                bits(o, "train_bits_per_byte"), bits(o, "held_out_bits_per_byte"), o.path("train_bytes").asLong(),
                o.path("held_out_bytes").asLong(), o.path("overfitting").asBoolean(), o.path("layers").asInt(),
                o.path("embed").asInt(), o.path("head_size").asInt(), o.path("context").asInt(), o.path("type").asText(),
                normalizer(o, p), o.path("input_lines").asLong(), leftOut(o, p));
    }

    private static LeaveOut leftOut(JsonNode o, Path p) throws IOException {
        JsonNode v = o.get("left_out");
        if (v == null || v.isNull()) {
            return null;
        }
        try {
            return LeaveOut.parse(v.asText());
        } catch (IllegalArgumentException e) {
            throw new IOException(p + ": " + e.getMessage(), e);
        }
    }

    /** What the lines go through before the model reads them, as the file beside {@code model} says ({@code none} without one). */
    public static LineNormalizer normalizerOf(Path model) throws IOException {
        FitInfo info = read(model);
        return info == null ? LineNormalizer.NONE : info.normalize();
    }

    private static LineNormalizer normalizer(JsonNode o, Path p) throws IOException {
        JsonNode v = o.get("normalize");
        if (v == null || v.isNull()) {
            return LineNormalizer.NONE;
        }
        try {
            return LineNormalizer.parse(v.asText());
        } catch (IllegalArgumentException e) {
            throw new IOException(p + ": " + e.getMessage() + "; a newer fit may have written it", e);
        }
    }

    /** The loss a stream of the kind the model was fitted to should come near: held-out if measured, else training. */
    public double expectedBitsPerByte() {
        return Double.isNaN(heldOutBitsPerByte) ? trainBitsPerByte : heldOutBitsPerByte;
    }

    private static void putBits(ObjectNode o, String name, double v) {
        if (Double.isFinite(v)) {
            o.put(name, Math.round(v * 1e4) / 1e4);
        } else {
            o.putNull(name);
        }
    }

    private static double bits(JsonNode o, String name) {
        JsonNode v = o.get(name);
        return v != null && v.isNumber() ? v.asDouble() : Double.NaN;
    }
}
