package dev.flinkrwkv.train;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A fixed crew of threads that runs one task for every member index and returns the results' sum in index
 * order. Member 0 is the calling thread; the others are daemon threads parked between tasks. A round
 * allocates nothing (no futures, no queue nodes): a volatile round number wakes the members, a countdown
 * wakes the caller, so a training step costs no garbage however many it runs.
 */
final class Crew implements AutoCloseable {
    interface Task {
        double run(int member);
    }

    private final Thread[] threads;
    private final double[] results;
    private final AtomicInteger running = new AtomicInteger();
    private volatile Thread caller;
    private volatile Task task;
    private volatile long round;
    private volatile boolean closed;
    private volatile Throwable failure;

    Crew(int size, String name) {
        results = new double[size];
        threads = new Thread[size - 1];
        for (int i = 0; i < threads.length; i++) {
            int member = i + 1;
            Thread t = new Thread(() -> serve(member), name);
            t.setDaemon(true);
            threads[i] = t;
            t.start();
        }
    }

    /** Runs {@code t} for members 0 .. size-1 (0 on this thread); returns the sum of the results in member order. */
    double run(Task t) {
        if (threads.length > 0) {
            task = t;
            failure = null;
            caller = Thread.currentThread();
            running.set(threads.length);
            round++;
            for (Thread th : threads) {
                LockSupport.unpark(th);
            }
        }
        Throwable own = null;
        try {
            results[0] = t.run(0);
        } catch (RuntimeException | Error e) {
            own = e;
        }
        while (running.get() > 0) {
            LockSupport.park(this);
        }
        Throwable f = own != null ? own : failure;
        if (f instanceof RuntimeException r) {
            throw r;
        }
        if (f instanceof Error e) {
            throw e;
        }
        double sum = 0;
        for (double r : results) {
            sum += r;
        }
        return sum;
    }

    private void serve(int member) {
        long seen = 0;
        while (true) {
            while (round == seen && !closed) {
                LockSupport.park(this);
            }
            if (closed) {
                return;
            }
            seen = round;
            try {
                results[member] = task.run(member);
            } catch (RuntimeException | Error e) {
                failure = e;
            }
            if (running.decrementAndGet() == 0) {
                LockSupport.unpark(caller);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : threads) {
            LockSupport.unpark(t);
        }
    }
}
