#define _DEFAULT_SOURCE
#include "link.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "nx_proto.h"

static long long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reads whatever the child printed on stdout and stderr, waiting up to timeout_ms. */
static void pump_text(link_t *l, int timeout_ms)
{
    struct pollfd p[2] = {{l->from_child, POLLIN, 0}, {l->from_child_err, POLLIN, 0}};
    if (poll(p, 2, timeout_ms) > 0) {
        if ((p[0].revents & POLLIN) && l->text_len < sizeof l->text - 1) {
            ssize_t n = read(l->from_child, l->text + l->text_len, sizeof l->text - 1 - l->text_len);
            if (n > 0) {
                l->text_len += (size_t)n;
            }
        }
        if ((p[1].revents & POLLIN) && l->err_len < sizeof l->err - 1) {
            ssize_t n = read(l->from_child_err, l->err + l->err_len, sizeof l->err - 1 - l->err_len);
            if (n > 0) {
                l->err_len += (size_t)n;
            }
        }
    }
    l->text[l->text_len] = '\0';
    l->err[l->err_len] = '\0';
}

bool link_stderr_has(link_t *l, const char *text, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    while (strstr(l->err, text) == NULL) {
        long long left = deadline - now_ms();
        if (left <= 0) {
            return false;
        }
        pump_text(l, (int)(left < 50 ? left : 50));
    }
    return true;
}

bool link_start(link_t *l, char *const argv[])
{
    memset(l, 0, sizeof *l);
    l->pty = -1;
    int in[2], out[2], err[2];
    if (pipe(in) != 0 || pipe(out) != 0 || pipe(err) != 0) {
        return false;
    }
    l->pid = fork();
    if (l->pid < 0) {
        return false;
    }
    if (l->pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
        execv(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    l->to_child = in[1];
    l->from_child = out[0];
    l->from_child_err = err[0];
    signal(SIGPIPE, SIG_IGN);
    nx_decoder_init(&l->decoder, l->buf, sizeof l->buf);
    char line[256];
    if (!link_line(l, "pty ", line, sizeof line, 10000, NULL, NULL)) {
        pump_text(l, 100);
        fprintf(stderr, "%s did not print its pty; its stderr:\n%s\n", argv[0], l->err);
        return false;
    }
    l->pty = open(line + 4, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (l->pty < 0) {
        fprintf(stderr, "cannot open %s: %s\n", line + 4, strerror(errno));
        return false;
    }
    struct termios t;
    tcgetattr(l->pty, &t);
    cfmakeraw(&t);
    cfsetspeed(&t, B115200);
    tcsetattr(l->pty, TCSANOW, &t);
    return true;
}

int link_stop(link_t *l)
{
    if (l->pid <= 0) {
        return -1;
    }
    link_say(l, "quit");
    close(l->to_child);
    if (l->pty >= 0) {
        close(l->pty);
    }
    int status = -1, code = -1;
    bool exited = false;
    for (int i = 0; i < 500 && !exited; i++) {
        exited = waitpid(l->pid, &status, WNOHANG) == l->pid;
        if (!exited) {
            usleep(10000);
        }
    }
    if (!exited) {
        kill(l->pid, SIGKILL);
        waitpid(l->pid, &status, 0);
    } else if (WIFEXITED(status)) {
        code = WEXITSTATUS(status);
    }
    pump_text(l, 0);
    if (code != 0 && l->err_len > 0) {
        fprintf(stdout, "  stderr of the process under test:\n%s\n", l->err);
    }
    close(l->from_child);
    close(l->from_child_err);
    l->pid = 0;
    return code;
}

void link_write(link_t *l, const void *bytes, size_t n)
{
    const uint8_t *p = bytes;
    long long deadline = now_ms() + 5000;
    while (n > 0 && now_ms() < deadline) {
        ssize_t w = write(l->pty, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            l->written += (unsigned long long)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            fprintf(stderr, "writing to the pty failed: %s\n", strerror(errno));
            return;
        } else {
            struct pollfd q = {l->pty, POLLOUT, 0};
            poll(&q, 1, 100);
        }
    }
}

void link_send(link_t *l, uint8_t type, const void *body, uint16_t n)
{
    uint8_t packet[NX_PACKET_MAX], wire[NX_FRAME_MAX];
    uint8_t *b = nx_packet_begin_version(packet, l->version == 0 ? NX_PROTOCOL_VERSION : l->version, type, l->seq++);
    if (n > 0) {
        memcpy(b, body, n);
    }
    uint16_t len = nx_packet_finish(packet, n);
    uint16_t w = nx_cobs_encode(packet, len, wire);
    wire[w++] = 0;
    link_write(l, wire, w);
}

int link_recv(link_t *l, uint8_t type, uint8_t *packet, int timeout_ms)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        uint8_t byte;
        ssize_t n = read(l->pty, &byte, 1);
        if (n == 1) {
            nx_dec_result r = nx_decoder_push(&l->decoder, byte);
            if (r == NX_DEC_FRAME && nx_packet_verify(l->buf, l->decoder.len) == NX_DEC_PACKET &&
                l->buf[1] == type) {
                memcpy(packet, l->buf, l->decoder.len);
                return l->decoder.len;
            }
            continue;
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            return -1;
        }
        struct pollfd p = {l->pty, POLLIN, 0};
        poll(&p, 1, (int)(left < 50 ? left : 50));
    }
}

void link_say(link_t *l, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    line[n++] = '\n';
    if (write(l->to_child, line, (size_t)n) != n) {
        fprintf(stderr, "the child's stdin is closed\n");
    }
}

bool link_line(link_t *l, const char *prefix, char *out, size_t cap, int timeout_ms,
               void (*seen)(const char *line, void *context), void *context)
{
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        char *nl;
        while ((nl = memchr(l->text, '\n', l->text_len)) != NULL) {
            *nl = '\0';
            bool match = strncmp(l->text, prefix, strlen(prefix)) == 0;
            if (match) {
                snprintf(out, cap, "%s", l->text);
            } else if (seen != NULL) {
                seen(l->text, context);
            }
            size_t used = (size_t)(nl - l->text) + 1;
            memmove(l->text, nl + 1, l->text_len - used);
            l->text_len -= used;
            l->text[l->text_len] = '\0';
            if (match) {
                return true;
            }
        }
        long long left = deadline - now_ms();
        if (left <= 0) {
            return false;
        }
        pump_text(l, (int)(left < 50 ? left : 50));
    }
}

void link_drain(link_t *l)
{
    pump_text(l, 0);
    l->text_len = 0;
    uint8_t byte;
    while (read(l->pty, &byte, 1) == 1) {
        nx_decoder_push(&l->decoder, byte);
    }
}
