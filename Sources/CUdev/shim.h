#ifndef NEURAXON_CUDEV_SHIM_H
#define NEURAXON_CUDEV_SHIM_H
#include <libudev.h>
#endif
