package dev.flinkrwkv.tokenize;

import java.util.Arrays;

/**
 * The byte-level alphabet of GPT-2 style BPE files: each byte is written as one printable character (the
 * printable Latin-1 bytes as themselves, the others as U+0100 onwards, in byte order), so that a vocabulary of
 * byte strings can be stored as text.
 */
final class ByteLevel {
    private ByteLevel() {}

    /** For each character below U+0144, the byte it stands for, or -1. */
    static int[] charToByte() {
        int[] map = new int[0x144];
        Arrays.fill(map, -1);
        int extra = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? b : 256 + extra++] = b;
        }
        return map;
    }

    /** The bytes a byte-level string stands for, or null if it has a character outside the alphabet. */
    static byte[] decode(String s, int[] charToByte) {
        byte[] out = new byte[s.length()];
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= charToByte.length || charToByte[c] < 0) {
                return null;
            }
            out[i] = (byte) charToByte[c];
        }
        return out;
    }
}
