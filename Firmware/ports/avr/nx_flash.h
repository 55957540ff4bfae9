/* Constant tables kept in flash (the generated channel names): on the AVR they go to program
 * memory and are read with pgm_read_*, so they take no RAM. */
#ifndef NX_FLASH_H
#define NX_FLASH_H

#include <avr/pgmspace.h>

#define NX_FLASH PROGMEM
#define NX_FLASH_BYTE(p) pgm_read_byte(p)
#define NX_FLASH_WORD(p) pgm_read_word(p)

#endif
