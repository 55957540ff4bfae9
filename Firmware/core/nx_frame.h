/* Framing of the Neuraxon serial protocol (Docs/PROTOCOL.md sections 2 and 3):
 * CRC-16/CCITT-FALSE, COBS encoding with a 0x00 delimiter, and a byte-at-a-time decoder. */
#ifndef NX_FRAME_H
#define NX_FRAME_H

#include <stdbool.h>
#include <stdint.h>

/** Largest packet (header, body and CRC), bytes. */
#define NX_PACKET_MAX 128u
/** Smallest packet: 3 header bytes and 2 CRC bytes. */
#define NX_PACKET_MIN 5u
/** Largest frame on the wire: the COBS-encoded packet (n + 1 bytes) and the delimiter. */
#define NX_FRAME_MAX (NX_PACKET_MAX + 2u)

/** CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, not reflected, no final XOR.
 *  crc("123456789") == 0x29B1. */
uint16_t nx_crc16(const uint8_t *data, uint16_t len);

/** Receives the encoded bytes one at a time. */
typedef void (*nx_sink)(void *context, uint8_t byte);

/** Sends `len` bytes COBS-encoded, followed by the 0x00 delimiter, through `sink`.
 *  Emits at most len + 2 + len / 254 bytes. */
void nx_cobs_send(const uint8_t *src, uint16_t len, nx_sink sink, void *context);

/** COBS-encodes `len` bytes into `dst` without a delimiter; `dst` holds len + 1 + len / 254
 *  bytes. Returns the encoded length. */
uint16_t nx_cobs_encode(const uint8_t *src, uint16_t len, uint8_t *dst);

/** Result of feeding one byte to the decoder, or of verifying a frame. */
typedef enum {
    NX_DEC_PENDING = 0,   /**< inside a frame, or an empty frame (00 00): nothing to report */
    NX_DEC_FRAME,         /**< a COBS-valid frame is in the buffer, `len` bytes: verify it */
    NX_DEC_PACKET,        /**< (nx_packet_verify) 5..128 bytes with a good CRC */
    NX_DEC_ERR_COBS,      /**< a code byte promised more bytes than arrived */
    NX_DEC_ERR_TOO_SHORT, /**< (nx_packet_verify) fewer than NX_PACKET_MIN bytes */
    NX_DEC_ERR_TOO_LONG,  /**< more bytes than the buffer holds; the rest was discarded */
    NX_DEC_ERR_CRC        /**< (nx_packet_verify) the CRC did not match */
} nx_dec_result;

/** Checks a decoded frame as a packet: at least NX_PACKET_MIN bytes and its last two bytes the
 *  little-endian CRC of the others. Returns NX_DEC_PACKET, NX_DEC_ERR_TOO_SHORT or
 *  NX_DEC_ERR_CRC. (Frames longer than NX_PACKET_MAX never get here: give the decoder a buffer
 *  of NX_PACKET_MAX bytes and it reports them as NX_DEC_ERR_TOO_LONG.) */
nx_dec_result nx_packet_verify(const uint8_t *frame, uint16_t len);

/** Incremental COBS frame decoder writing into a buffer its caller owns.
 *  Never reads or writes outside `buf[0 .. capacity)`. */
typedef struct {
    uint8_t *buf;
    uint16_t capacity;
    uint16_t len;        /**< decoded bytes so far; after NX_DEC_PACKET the packet length */
    uint8_t remaining;   /**< data bytes still due in the current COBS block */
    bool zero_pending;   /**< the current block ends with an implied zero */
    bool overflow;       /**< more bytes arrived than fit; wait for the delimiter */
    bool started;        /**< at least one byte of this frame has arrived */
} nx_decoder;

/** Prepares `d` to decode into `buf` (capacity bytes, at least NX_PACKET_MIN). */
void nx_decoder_init(nx_decoder *d, uint8_t *buf, uint16_t capacity);

/** Feeds one received byte. At the 0x00 delimiter returns NX_DEC_FRAME (the decoded bytes are
 *  buf[0 .. len) until the next call), NX_DEC_ERR_COBS or NX_DEC_ERR_TOO_LONG; otherwise
 *  NX_DEC_PENDING. */
nx_dec_result nx_decoder_push(nx_decoder *d, uint8_t byte);

#endif
