#include "check.h"

#include <stdarg.h>

static const char *t_name;
static int t_failures_here, t_passed, t_failed;

void t_begin(const char *name)
{
    t_name = name;
    t_failures_here = 0;
}

int t_failures_in_test(void) { return t_failures_here; }

void t_end(void)
{
    if (t_failures_here == 0) {
        t_passed++;
    } else {
        t_failed++;
        printf("FAIL %s\n", t_name);
    }
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (t_failures_here++ >= 5) {
        return; /* the first few failures of a test say enough */
    }
    printf("  %s:%d: %s: ", file, line, t_name);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

void t_run(const char *name, void (*fn)(void))
{
    t_begin(name);
    fn();
    t_end();
}

int t_summary(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, t_passed, t_failed);
    fflush(stdout);
    return t_failed == 0 ? 0 : 1;
}
