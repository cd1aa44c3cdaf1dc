// Tokens per second of rwkv.cpp on a model file, measured as flink-rwkv's `bench` measures its own:
// a warm-up, then five timed runs over --seconds in all, the median run reported.
//   batch 1:  rwkv_eval, one token at a time, state in and out, with the logits of every token
//   sequence: rwkv_eval_sequence over --sequence LEN tokens, the logits of the last one (--sequence LEN)
// Built and run by bench/compare-rwkv-cpp.sh against rwkv.cpp's shared library (rwkv.h's API only):
//   cc -O2 -I RWKV_CPP_DIR bench/rwkv_cpp_bench.c -L RWKV_CPP_DIR/build -lrwkv -o rwkv_cpp_bench
//   rwkv_cpp_bench MODEL.bin [--threads 1] [--seconds 2] [--sequence LEN]
// Output: one tab-separated line: mode (batch, or seq-last: the name of flink-rwkv bench's row that does the
// same work), size, threads, tokens/s, CPU share in % (process CPU time over wall time x threads during the
// timed runs, as bench's column: below 100 the cores were shared with other work), e.g. "batch\t1\t2\t45.3\t98.1".
#include "rwkv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNS 5

static double clock_seconds(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double now_seconds(void) {
    return clock_seconds(CLOCK_MONOTONIC);
}

struct bench {
    struct rwkv_context * ctx;
    float * state;
    float * logits;
    uint32_t * tokens;
    size_t n_tokens; // tokens per call: 1, or the sequence length
    size_t next;     // the next token of the batch-1 walk through `tokens`
    size_t n_walk;
};

// One call: one token (batch 1) or the whole sequence. Exits on an error: a figure from a failed call is no figure.
static void call(struct bench * b) {
    bool ok;
    if (b->n_tokens == 1) {
        ok = rwkv_eval(b->ctx, b->tokens[b->next], b->state, b->state, b->logits);
        b->next = (b->next + 1) % b->n_walk;
    } else {
        ok = rwkv_eval_sequence(b->ctx, b->tokens, b->n_tokens, b->state, b->state, b->logits);
    }
    if (!ok) {
        fprintf(stderr, "rwkv_cpp_bench: evaluation failed (error flags 0x%x)\n", (unsigned) rwkv_get_last_error(b->ctx));
        exit(1);
    }
}

// Calls per second over at least `seconds` (at least one call).
static double calls_per_second(struct bench * b, double seconds) {
    double start = now_seconds(), t;
    long calls = 0;
    do {
        call(b);
        calls++;
        t = now_seconds();
    } while (t - start < seconds);
    return calls / (t - start);
}

static int compare_doubles(const void * x, const void * y) {
    double a = *(const double *) x, b = *(const double *) y;
    return (a > b) - (a < b);
}

static void usage(void) {
    fprintf(stderr, "usage: rwkv_cpp_bench MODEL.bin [--threads 1] [--seconds 2] [--sequence LEN]\n");
    exit(2);
}

int main(int argc, char ** argv) {
    if (argc < 2 || argv[1][0] == '-') {
        usage();
    }
    const char * model = argv[1];
    unsigned threads = 1;
    double seconds = 2;
    size_t sequence = 0;
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc) {
            usage();
        } else if (strcmp(argv[i], "--threads") == 0) {
            threads = (unsigned) atoi(argv[++i]);
        } else if (strcmp(argv[i], "--seconds") == 0) {
            seconds = atof(argv[++i]);
        } else if (strcmp(argv[i], "--sequence") == 0) {
            sequence = (size_t) atol(argv[++i]);
        } else {
            usage();
        }
    }
    if (threads < 1 || seconds <= 0) {
        usage();
    }

    struct rwkv_context * ctx = rwkv_init_from_file(model, threads, 0);
    if (ctx == NULL) {
        fprintf(stderr, "rwkv_cpp_bench: cannot load %s (error flags 0x%x)\n", model, (unsigned) rwkv_get_last_error(NULL));
        return 1;
    }
    struct bench b = {0};
    b.ctx = ctx;
    b.n_tokens = sequence > 0 ? sequence : 1;
    b.n_walk = sequence > 0 ? sequence : 4096;
    b.state = malloc(rwkv_get_state_len(ctx) * sizeof(float));
    b.logits = malloc(rwkv_get_logits_len(ctx) * sizeof(float));
    b.tokens = malloc(b.n_walk * sizeof(uint32_t));
    if (b.state == NULL || b.logits == NULL || b.tokens == NULL) {
        fprintf(stderr, "rwkv_cpp_bench: out of memory\n");
        return 1;
    }
    size_t vocab = rwkv_get_n_vocab(ctx);
    srand(1);
    for (size_t i = 0; i < b.n_walk; i++) {
        b.tokens[i] = (uint32_t) (rand() % vocab);
    }
    rwkv_init_state(ctx, b.state);

    // warm-up: the first call builds and allocates the graph; then caches and page tables settle
    calls_per_second(&b, seconds / 3);
    double rates[RUNS];
    double cpu = clock_seconds(CLOCK_PROCESS_CPUTIME_ID), start = now_seconds();
    for (int r = 0; r < RUNS; r++) {
        rates[r] = calls_per_second(&b, seconds / RUNS) * b.n_tokens;
    }
    double cpu_share = (clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu) / (now_seconds() - start) / threads;
    qsort(rates, RUNS, sizeof(double), compare_doubles);
    printf("%s\t%zu\t%u\t%.2f\t%.1f\n", sequence > 0 ? "seq-last" : "batch", b.n_tokens, threads, rates[RUNS / 2], 100 * cpu_share);

    free(b.tokens);
    free(b.logits);
    free(b.state);
    rwkv_free(ctx);
    return 0;
}
