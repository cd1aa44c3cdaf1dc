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
 * {@code tokenize}: a file's token ids, printed or written as little-endian int32 (the file {@code detokenize}
 * reads). World and bytes take the file's bytes as they are; 20B reads them as UTF-8.
 */
public final class TokenizeCommand implements Command {
    @Override
    public String name() {
        return "tokenize";
    }

    @Override
    public String summary() {
        return "a file's token ids (world, 20b, bytes or a tokenizer file), printed or as int32";
    }

    @Override
    public String usage() {
        return "--tokenizer world|20b|bytes|FILE --input FILE [--ids OUT.i32]";
    }

    @Override
    public int run(Args args, PrintStream out, PrintStream err) throws IOException {
        Tokenizer t = Tokenizers.named(args.string("tokenizer"));
        Path input = args.path("input");
        if (!Files.isRegularFile(input)) {
            throw new IOException("input " + input + " is not a readable file");
        }
        int[] ids = t.encode(Files.readAllBytes(input));
        if (args.has("ids")) {
            Path file = args.path("ids");
            ByteBuffer b = ByteBuffer.allocate(4 * ids.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asIntBuffer().put(ids);
            Files.write(file, b.array());
            out.println(ids.length + " tokens written to " + file);
            return 0;
        }
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < ids.length; i++) {
            if (i > 0) {
                line.append(' ');
            }
            line.append(ids[i]);
            if (line.length() > 1 << 16) {
                out.print(line);
                line.setLength(0);
            }
        }
        out.println(line);
        return 0;
    }
}
