/* Constant tables kept in flash on a board (the generated channel names): on the host they are
 * ordinary constants. */
#ifndef NX_FLASH_H
#define NX_FLASH_H

#define NX_FLASH
#define NX_FLASH_BYTE(p) (*(p))
#define NX_FLASH_WORD(p) (*(p))

#endif
