#ifndef CALLOCATION_COUNTER_H
#define CALLOCATION_COUNTER_H
/*
 * Counts heap allocations made by the calling thread, for tests that prove a code path
 * allocates nothing. malloc, calloc, realloc and posix_memalign are interposed in the test
 * executable and forwarded to glibc's implementations.
 */
#include <stdint.h>

/* Start counting on this thread (resets the count). */
void nx_alloc_counter_start(void);
/* Stop counting on this thread and return how many allocations it made since start. */
uint64_t nx_alloc_counter_stop(void);
#endif
