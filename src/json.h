/* Small helpers for the files that read JSON. */
#ifndef WTBOX_JSON_H
#define WTBOX_JSON_H

#include "error.h"

/* Line and column (1-based) of `pos` within `text`. Pure. */
void json_position(const char *text, const char *pos, int *line, int *col);

/* "<what> '<source>': JSON syntax error at line L, column C" */
int json_syntax_error(wtb_error **err, const char *what, const char *source, const char *text,
		      const char *pos);

#endif
