package dev.flinkrwkv.jobs.tools;

import dev.flinkrwkv.jobs.cli.Args;
import dev.flinkrwkv.jobs.cli.Command;
import dev.flinkrwkv.tokenize.Tokenizer;
import dev.flinkrwkv.tokenize.Tokenizers;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * {@code detokenize}: the bytes that a file of little-endian int32 token ids stands for, to a file or standard
 * output, exactly (a World or bytes round trip gives back the tokenized file byte for byte).
 */
public final class DetokenizeCommand implements Command {
    @Override
    public String name() {
        return "detokenize";
    }

    @Override
    public String summary() {
        return "the bytes of a file of int32 token ids, to a file or standard output";
    }

    @Override
    public String usage() {
        return "--tokenizer world|20b|bytes|FILE --ids FILE.i32 [--out FILE]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Tokenizer t = Tokenizers.named(args.string("tokenizer"));
        Path idsFile = args.path("ids");
        if (!Files.isRegularFile(idsFile)) {
            throw new IOException("ids " + idsFile + " is not a readable file");
        }
        byte[] raw = Files.readAllBytes(idsFile);
        if (raw.length % 4 != 0) {
            throw new IOException(idsFile + " has " + raw.length + " bytes, not a whole number of little-endian int32 ids");
        }
        int[] ids = new int[raw.length / 4];
        ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(ids);
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0 || ids[i] >= t.vocab()) {
                throw new IllegalArgumentException("token id " + ids[i] + " at position " + i + " of " + idsFile
                        + " is outside the vocabulary of the " + t.name() + " tokenizer (ids 0 to " + (t.vocab() - 1) + ")");
            }
        }
        byte[] bytes = t.decodeBytes(ids);
        if (args.has("out")) {
            Path file = args.path("out");
            Files.write(file, bytes);
            out.println(ids.length + " tokens, " + bytes.length + " bytes written to " + file);
        } else {
            out.write(bytes);
            out.flush();
        }
        return 0;
    }
}
