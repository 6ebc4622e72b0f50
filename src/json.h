/* Small helpers for the files that read JSON. */
#ifndef WTBOX_JSON_H
#define WTBOX_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct cJSON;

/* Line and column (1-based, in bytes) of `pos` within `text`, counted up
 * to `pos` or the first NUL (a policy's first NUL is itself the byte an
 * error names). Pure. */
void json_position(const char *text, const char *pos, int *line, int *col);

/* JSON's whitespace between tokens: space, tab, newline, carriage return. */
bool json_is_space(char c);

/* "<what> '<source>': JSON syntax error at line L, column C" */
int json_syntax_error(wtb_error **err, const char *what, const char *source, const char *text,
		      const char *pos);

/* The offset in `text` (`len` bytes that cJSON parsed) of the first thing
 * cJSON takes, but not as it is written: in a string, the escape \u0000,
 * which cJSON decodes to a NUL that ends the string ("read\u0000x" is read
 * as "read"), or a control byte, which JSON wants escaped there (a raw NUL
 * ends the string the same way); between tokens, a control byte other than
 * tab, newline and carriage return, which cJSON skips as if it were a
 * space. text[*off] is '\\' for the escape. false when there is none. Pure. */
bool json_find_bad_byte(const char *text, size_t len, size_t *off);

/* A member of an object anywhere in `j` whose key another member of the
 * same object has: cJSON keeps both and a lookup finds the first, so the
 * other would be ignored without a word. Its path ("syscalls[3].action",
 * "defaultAction" at the top) in *where (caller frees); false when every
 * key is unique. Pure. */
bool json_find_duplicate_key(const struct cJSON *j, char **where);

#endif
