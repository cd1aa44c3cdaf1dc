package dev.flinkrwkv.train;

/**
 * One named parameter tensor inside the flat parameter vector of {@link Rwkv7Params}: its rwkv.cpp name,
 * its ggml dimensions (ne0 fastest, as the file stores them) and where its values start.
 */
public record ParamTensor(String name, int offset, int[] ne) {
    public int size() {
        int n = 1;
        for (int d : ne) {
            n *= d;
        }
        return n;
    }

    /** The name without its layer prefix ({@code blocks.3.att.w1} gives {@code att.w1}): the parameter's kind. */
    public String kind() {
        if (!name.startsWith("blocks.")) {
            return name;
        }
        return name.substring(name.indexOf('.', "blocks.".length()) + 1);
    }
}
