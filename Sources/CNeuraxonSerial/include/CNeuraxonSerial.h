#ifndef CNEURAXON_SERIAL_H
#define CNEURAXON_SERIAL_H
/*
 * Linux serial-port calls that Swift cannot reach through Glibc: the termios2 ioctls (any baud
 * rate through BOTHER), and request codes built from _IOR/_IOW. <asm/termbits.h> clashes with
 * glibc's <termios.h> in one translation unit, so these live in their own C file.
 *
 * Every function returns 0 on success, or -1 with errno set by the failing ioctl.
 */

/* Modem-line bits for nx_serial_get_modem_lines and nx_serial_set_modem_lines. */
enum {
    NX_SERIAL_LINE_DTR = 1 << 0,
    NX_SERIAL_LINE_RTS = 1 << 1,
    NX_SERIAL_LINE_CTS = 1 << 2,
    NX_SERIAL_LINE_DSR = 1 << 3,
    NX_SERIAL_LINE_CD  = 1 << 4,
    NX_SERIAL_LINE_RI  = 1 << 5,
};

/* Sets input and output speed to `baud` bits per second (TCSETS2 with BOTHER), leaving every
   other termios field as it is. Any rate the driver accepts works, not only the B* table. */
int nx_serial_set_speed(int fd, unsigned int baud);

/* Reads the input and output speed in bits per second back from the driver (TCGETS2). */
int nx_serial_get_speed(int fd, unsigned int *input_baud, unsigned int *output_baud);

/* TIOCEXCL when `on` is non-zero, TIOCNXCL otherwise: refuse further opens of the tty
   (root bypasses it; pair it with flock). */
int nx_serial_set_exclusive(int fd, int on);

/* TIOCMGET: the modem lines as NX_SERIAL_LINE_* bits. Fails with ENOTTY or EINVAL on devices
   without modem lines (pseudo-terminals). */
int nx_serial_get_modem_lines(int fd, int *lines);

/* TIOCMBIS when `on` is non-zero, TIOCMBIC otherwise, for the NX_SERIAL_LINE_* bits in `lines`. */
int nx_serial_set_modem_lines(int fd, int lines, int on);

/* TIOCGSERIAL / TIOCSSERIAL: read or set the driver's ASYNC_LOW_LATENCY flag. */
int nx_serial_get_low_latency(int fd, int *on);
int nx_serial_set_low_latency(int fd, int on);

#endif
