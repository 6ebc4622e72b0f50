#include "json.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util.h"

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

bool json_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool json_find_bad_byte(const char *text, size_t len, size_t *off)
{
	bool in_string = false;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c < 0x20 && (in_string || !json_is_space((char)c))) {
			*off = i;
			return true;
		}
		if (!in_string) {
			in_string = c == '"';
			continue;
		}
		if (c == '"') {
			in_string = false;
		} else if (c == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' && i + 5 < len &&
			    memcmp(text + i + 2, "0000", 4) == 0) {
				*off = i;
				return true;
			}
			i++; /* the escaped character: \" does not end the string */
		}
	}
	return false;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

/* The key two members of object `o` share, or NULL. Sorted, not compared
 * pairwise: an object may have many members. */
static const char *object_duplicate(const cJSON *o)
{
	_cleanup_free_ const cJSON **v = NULL;
	const cJSON *item;
	size_t n = 0;

	v = xcalloc((size_t)cJSON_GetArraySize(o) + 1, sizeof(*v));
	cJSON_ArrayForEach(item, o)
	{
		v[n++] = item;
	}
	qsort(v, n, sizeof(*v), key_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(v[i - 1]->string, v[i]->string) == 0)
			return v[i]->string;
	return NULL;
}

/* The path is made on the way back up, once a duplicate is found: made
 * on the way down, each level would copy the whole path above it. */
static bool find_duplicate(const cJSON *j, char **out)
{
	const char *key = cJSON_IsObject(j) ? object_duplicate(j) : NULL;
	const cJSON *item;
	int i = 0;

	if (key != NULL) {
		*out = xstrdup(key);
		return true;
	}
	cJSON_ArrayForEach(item, j)
	{
		_cleanup_free_ char *below = NULL;
		int at = i++;
		const char *sep;

		if (!(cJSON_IsObject(item) || cJSON_IsArray(item)) || !find_duplicate(item, &below))
			continue;
		sep = below[0] == '[' ? "" : ".";
		*out = cJSON_IsObject(j) ? xasprintf("%s%s%s", item->string, sep, below)
					 : xasprintf("[%d]%s%s", at, sep, below);
		return true;
	}
	return false;
}

bool json_find_duplicate_key(const cJSON *j, char **where)
{
	return find_duplicate(j, where);
}
