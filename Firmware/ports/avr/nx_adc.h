/* The AVR port's ADC reading in millivolts, apart from the port so the host tests can check it
 * for every raw value. Plain C99, no AVR header. */
#ifndef NX_ADC_H
#define NX_ADC_H

#include <stdint.h>

/** Millivolts of a 10-bit ADC reading `raw` (0..1023) with AVcc = 5 V: round(raw * 5000 / 1023)
 *  = floor(q / 1023) with q = raw * 5000 + 511 (at most 5,115,511). Division by 1023 = 2^10 - 1
 *  as shifts and adds, floor((q + q / 2^10 + q / 2^20 + 1) / 2^10), exact for every raw value:
 *  about 40 cycles on the AVR instead of 640 for a 32-bit division. */
static inline int16_t nx_adc_millivolts(uint16_t raw)
{
    uint32_t q = (uint32_t)raw * 5000u + 511u;
    /* the shifts as whole-byte moves and short 8- and 16-bit shifts: q < 2^23, so q >> 8 and
     * sum >> 8 fit 16 bits and q >> 16 fits 8 */
    uint32_t sum = q + (uint16_t)((uint16_t)(q >> 8) >> 2) + (uint8_t)((uint8_t)(q >> 16) >> 4) + 1u;
    return (int16_t)((uint16_t)(sum >> 8) >> 2);
}

#endif
