/* Fault injection for tests: only the build with WTBOX_FAULTS defined
 * (build/wtbox-faults) has it; in the real binary WTB_FAULT() is 0. With
 * WTBOX_FAULT=<point> in the environment, the step named <point> fails, so
 * tests can check that everything before it is rolled back; with
 * WTBOX_FAULT=<point>:crash wtbox is SIGKILLed there, so they can check that
 * the next run cleans up after it; with <point>:stop it stops itself there
 * (SIGSTOP) and goes on when continued, so they can act in that window. */
#ifndef WTBOX_FAULT_H
#define WTBOX_FAULT_H

#include "error.h"

#ifdef WTBOX_FAULTS
int fault_check(const char *point, wtb_error **err);
#define WTB_FAULT(point, err) fault_check(point, err)
#else
#define WTB_FAULT(point, err) ((void)(err), 0)
#endif

#endif
