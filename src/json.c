#include "json.h"

#include <string.h>

void json_position(const char *text, const char *pos, int *line, int *col)
{
	*line = 1;
	*col = 1;
	if (pos == NULL || pos < text)
		return;
	for (const char *p = text; p < pos && *p != '\0'; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int json_syntax_error(wtb_error **err, const char *what, const char *source, const char *text,
		      const char *pos)
{
	int line, col;

	/* cJSON's error pointer is a global and may point into another
	 * buffer; only trust it when it lies within this text. */
	if (pos == NULL || pos < text || pos > text + strlen(text))
		return wtb_error_set(err, 0, "%s '%s': JSON syntax error", what, source);
	json_position(text, pos, &line, &col);
	return wtb_error_set(err, 0, "%s '%s': JSON syntax error at line %d, column %d", what,
			     source, line, col);
}
