package dev.flinkrwkv.tokenize;

import java.io.ByteArrayOutputStream;

/**
 * Reads a Python string or bytes literal ({@code 'a\n'}, {@code "it's"}, {@code b'\xff'}) into the bytes it
 * stands for: a str literal as UTF-8, a bytes literal as is. Vocabulary files in the World format write each
 * token as such a literal, in the form Python's {@code repr} gives.
 */
final class PythonLiteral {
    private PythonLiteral() {}

    /**
     * The bytes of the literal in {@code src[from, to)}, which holds its UTF-8 text.
     *
     * @throws IllegalArgumentException with the reason if it is not a literal
     */
    static byte[] parse(byte[] src, int from, int to) {
        int i = from;
        boolean isBytes = false;
        if (i < to && (src[i] == 'b' || src[i] == 'B')) {
            isBytes = true;
            i++;
        }
        if (to - i < 2 || (src[i] != '\'' && src[i] != '"') || src[to - 1] != src[i]) {
            throw new IllegalArgumentException("not a quoted Python literal");
        }
        byte quote = src[i];
        int end = to - 1;
        i++;
        ByteArrayOutputStream out = new ByteArrayOutputStream(end - i);
        while (i < end) {
            byte c = src[i++];
            if (c == quote) {
                throw new IllegalArgumentException("unescaped quote inside the literal");
            }
            if (c != '\\') {
                if (isBytes && c < 0) {
                    throw new IllegalArgumentException("a bytes literal holds a non-ASCII character");
                }
                out.write(c); // a str literal's UTF-8 text is its UTF-8 encoding
                continue;
            }
            if (i >= end) {
                throw new IllegalArgumentException("the literal ends in a backslash");
            }
            byte e = src[i++];
            switch (e) {
                case '\\': out.write('\\'); break;
                case '\'': out.write('\''); break;
                case '"': out.write('"'); break;
                case 'n': out.write('\n'); break;
                case 't': out.write('\t'); break;
                case 'r': out.write('\r'); break;
                case 'a': out.write(7); break;
                case 'b': out.write(8); break;
                case 'f': out.write(12); break;
                case 'v': out.write(11); break;
                case 'x': {
                    int v = hex(src, i, 2, end);
                    i += 2;
                    if (isBytes) {
                        out.write(v);
                    } else {
                        utf8(out, v);
                    }
                    break;
                }
                case 'u':
                case 'U': {
                    if (isBytes) { // no escape in a bytes literal: the backslash stays
                        out.write('\\');
                        out.write(e);
                        break;
                    }
                    int n = e == 'u' ? 4 : 8;
                    utf8(out, hex(src, i, n, end));
                    i += n;
                    break;
                }
                default:
                    if (e >= '0' && e <= '7') {
                        int v = e - '0';
                        for (int k = 0; k < 2 && i < end && src[i] >= '0' && src[i] <= '7'; k++) {
                            v = v * 8 + (src[i++] - '0');
                        }
                        if (isBytes) {
                            out.write(v & 0xFF);
                        } else {
                            utf8(out, v);
                        }
                    } else { // Python keeps an unknown escape as written
                        out.write('\\');
                        out.write(e);
                    }
            }
        }
        return out.toByteArray();
    }

    private static int hex(byte[] src, int at, int digits, int end) {
        if (at + digits > end) {
            throw new IllegalArgumentException("truncated \\x, \\u or \\U escape");
        }
        int v = 0;
        for (int k = 0; k < digits; k++) {
            int d = Character.digit(src[at + k], 16);
            if (d < 0) {
                throw new IllegalArgumentException("bad hex digit in an escape");
            }
            v = v * 16 + d;
        }
        return v;
    }

    private static void utf8(ByteArrayOutputStream out, int cp) {
        if (cp < 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            throw new IllegalArgumentException("escape of U+" + Integer.toHexString(cp).toUpperCase()
                    + ", which has no UTF-8 encoding");
        }
        if (cp < 0x80) {
            out.write(cp);
        } else if (cp < 0x800) {
            out.write(0xC0 | cp >> 6);
            out.write(0x80 | cp & 0x3F);
        } else if (cp < 0x10000) {
            out.write(0xE0 | cp >> 12);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        } else {
            out.write(0xF0 | cp >> 18);
            out.write(0x80 | cp >> 12 & 0x3F);
            out.write(0x80 | cp >> 6 & 0x3F);
            out.write(0x80 | cp & 0x3F);
        }
    }
}
