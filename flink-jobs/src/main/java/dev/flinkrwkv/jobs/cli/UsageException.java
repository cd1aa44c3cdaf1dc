package dev.flinkrwkv.jobs.cli;

/** A command line that is wrong: the message says what, and the usage line follows it. */
public class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
