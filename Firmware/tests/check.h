/* A minimal test runner: named tests, failing checks print where and why, a closing count. */
#ifndef NX_CHECK_H
#define NX_CHECK_H

#include <stdio.h>

void t_begin(const char *name);
void t_end(void);
void t_fail(const char *file, int line, const char *fmt, ...);
/** Failures so far in the running test. */
int t_failures_in_test(void);
/** Runs fn as one named test. */
void t_run(const char *name, void (*fn)(void));
/** Prints "<suite>: N passed, M failed" and returns the process exit status. */
int t_summary(const char *suite);

#define CHECK(cond, ...) do { if (!(cond)) { t_fail(__FILE__, __LINE__, __VA_ARGS__); } } while (0)

#endif
