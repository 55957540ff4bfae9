/* The test side of a firmware under test: starts the process (host port or AVR harness),
 * opens the pseudo-terminal it names on its first stdout line, exchanges protocol frames on
 * it, and reads and writes the text link on the process's stdin and stdout. */
#ifndef NX_LINK_H
#define NX_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nx_frame.h"

typedef struct {
    pid_t pid;
    int to_child;            /* the child's stdin */
    int from_child;          /* the child's stdout */
    int from_child_err;      /* the child's stderr */
    char err[8192];          /* stderr so far */
    size_t err_len;
    int pty;
    unsigned long long written; /* bytes written to the pty in all */
    char text[65536];        /* stdout bytes not yet consumed */
    size_t text_len;
    uint8_t seq;
    uint8_t version;         /* protocol version of the frames link_send builds; 0 means 1 */
    nx_decoder decoder;
    uint8_t buf[NX_PACKET_MAX];
} link_t;

/** Starts argv[0] with argv; waits up to 10 s for "pty <path>" and opens it raw. */
bool link_start(link_t *l, char *const argv[]);
/** Sends "quit", closes everything and reaps the child (killing it after 5 s). Returns the
 *  child's exit status, or -1; on -1 or non-zero, prints what the child wrote on stderr. */
int link_stop(link_t *l);
/** Sends one frame with the next sequence number. */
void link_send(link_t *l, uint8_t type, const void *body, uint16_t n);
/** Writes raw bytes to the pty. */
void link_write(link_t *l, const void *bytes, size_t n);
/** Waits up to timeout_ms for a frame of `type`, skipping others; returns its length or -1. */
int link_recv(link_t *l, uint8_t type, uint8_t *packet, int timeout_ms);
/** Writes one printf-formatted line to the child's stdin. */
void link_say(link_t *l, const char *fmt, ...);
/** Waits up to timeout_ms for a stdout line starting with `prefix`, consuming the lines
 *  before it (each is passed to `seen` when not NULL). Copies the line into out. */
bool link_line(link_t *l, const char *prefix, char *out, size_t cap, int timeout_ms,
               void (*seen)(const char *line, void *context), void *context);
/** Waits up to timeout_ms for `text` to appear on the child's stderr. */
bool link_stderr_has(link_t *l, const char *text, int timeout_ms);
/** Drops stdout lines and frames received so far. */
void link_drain(link_t *l);

#endif
