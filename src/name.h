/* Agent names: strict validation and generation. Pure, unit-tested. */
#ifndef WTBOX_NAME_H
#define WTBOX_NAME_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"

#define WTB_NAME_MAX 64

/* 0 when `name` is a valid agent name; otherwise fills err with
 * "invalid agent name 'x': <reason>". The rules keep a name usable as a
 * path component, a branch component and a hostname-like label. */
int name_validate(const char *name, wtb_error **err);

/* A readable name "adjective-noun" from `seed`; with attempt > 0 a numeric
 * suffix is added ("-2", "-3", ...) so a caller can walk past taken names. */
char *name_generate(uint64_t seed, unsigned attempt);

#endif
