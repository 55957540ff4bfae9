#include "CNeuraxonSerial.h"

#include <asm/termbits.h>
#include <asm/ioctls.h>
#include <asm/termios.h>
#include <linux/serial.h>
#include <linux/tty_flags.h>

/* <sys/ioctl.h> would pull glibc's termios definitions in beside the kernel's. */
extern int ioctl(int fd, unsigned long request, ...);

int nx_serial_set_speed(int fd, unsigned int baud) {
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0) return -1;
    t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
    t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
    t.c_ispeed = baud;
    t.c_ospeed = baud;
    return ioctl(fd, TCSETS2, &t);
}

int nx_serial_get_speed(int fd, unsigned int *input_baud, unsigned int *output_baud) {
    struct termios2 t;
    if (ioctl(fd, TCGETS2, &t) != 0) return -1;
    *input_baud = t.c_ispeed;
    *output_baud = t.c_ospeed;
    return 0;
}

int nx_serial_set_exclusive(int fd, int on) {
    return ioctl(fd, on ? TIOCEXCL : TIOCNXCL);
}

static int to_tiocm(int lines) {
    int bits = 0;
    if (lines & NX_SERIAL_LINE_DTR) bits |= TIOCM_DTR;
    if (lines & NX_SERIAL_LINE_RTS) bits |= TIOCM_RTS;
    if (lines & NX_SERIAL_LINE_CTS) bits |= TIOCM_CTS;
    if (lines & NX_SERIAL_LINE_DSR) bits |= TIOCM_DSR;
    if (lines & NX_SERIAL_LINE_CD) bits |= TIOCM_CD;
    if (lines & NX_SERIAL_LINE_RI) bits |= TIOCM_RI;
    return bits;
}

int nx_serial_get_modem_lines(int fd, int *lines) {
    int bits = 0;
    if (ioctl(fd, TIOCMGET, &bits) != 0) return -1;
    int out = 0;
    if (bits & TIOCM_DTR) out |= NX_SERIAL_LINE_DTR;
    if (bits & TIOCM_RTS) out |= NX_SERIAL_LINE_RTS;
    if (bits & TIOCM_CTS) out |= NX_SERIAL_LINE_CTS;
    if (bits & TIOCM_DSR) out |= NX_SERIAL_LINE_DSR;
    if (bits & TIOCM_CD) out |= NX_SERIAL_LINE_CD;
    if (bits & TIOCM_RI) out |= NX_SERIAL_LINE_RI;
    *lines = out;
    return 0;
}

int nx_serial_set_modem_lines(int fd, int lines, int on) {
    int bits = to_tiocm(lines);
    return ioctl(fd, on ? TIOCMBIS : TIOCMBIC, &bits);
}

int nx_serial_get_low_latency(int fd, int *on) {
    struct serial_struct s;
    if (ioctl(fd, TIOCGSERIAL, &s) != 0) return -1;
    *on = (s.flags & ASYNC_LOW_LATENCY) != 0;
    return 0;
}

int nx_serial_set_low_latency(int fd, int on) {
    struct serial_struct s;
    if (ioctl(fd, TIOCGSERIAL, &s) != 0) return -1;
    if (on) s.flags |= ASYNC_LOW_LATENCY; else s.flags &= ~ASYNC_LOW_LATENCY;
    return ioctl(fd, TIOCSSERIAL, &s);
}
