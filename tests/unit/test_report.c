/* gc's JSON: every item with its four fields and whether it was done. */
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

#include "tap.h"

static void test_gc_items_json(void)
{
	wtb_gc_item items[] = {
	    {.kind = "orphan",
	     .name = (char *)"a",
	     .path = (char *)"/x/a",
	     .action = (char *)"import \"it\""},
	    {.kind = "trash",
	     .name = (char *)"r.a.1.2",
	     .path = (char *)"/t/r.a.1.2",
	     .action = (char *)"delete"},
	};
	_cleanup_free_ char *none = gc_items_json(NULL, 0, true);
	_cleanup_free_ char *two = gc_items_json(items, 2, false);

	is_str(none, "[]", "no item: an empty array");
	like(two, "^\\[\\{", "an array of objects");
	has_str(two, "\"kind\":\t\"orphan\"", "kind");
	has_str(two, "\"name\":\t\"r.a.1.2\"", "name");
	has_str(two, "\"path\":\t\"/x/a\"", "path");
	has_str(two, "\"action\":\t\"import \\\"it\\\"\"", "action, escaped");
	has_str(two, "\"done\":\tfalse", "done");
	ok(strstr(two, "\"done\":\ttrue") == NULL, "a dry run did nothing");
}

int main(void)
{
	test_gc_items_json();
	return done_testing();
}
