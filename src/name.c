#include "name.h"

#include <string.h>

#include "util.h"

static bool name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static const char *name_problem(const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return "empty";
	if (len > WTB_NAME_MAX)
		return "longer than 64 characters";
	for (size_t i = 0; i < len; i++)
		if (!name_char_ok(name[i]))
			return "only letters, digits, '.', '_' and '-' are allowed";
	if (name[0] == '.' || name[0] == '-')
		return "must not start with '.' or '-'";
	/* The remaining rules are git's for a ref component. */
	if (strstr(name, "..") != NULL)
		return "must not contain '..'";
	if (name[len - 1] == '.')
		return "must not end with '.'";
	if (str_has_suffix(name, ".lock"))
		return "must not end with '.lock'";
	return NULL;
}

int name_validate(const char *name, wtb_error **err)
{
	const char *why = name_problem(name);

	if (why != NULL)
		return wtb_error_set(err, 0, "invalid agent name '%s': %s", name, why);
	return 0;
}

static const char *const adjectives[] = {
    "amber",  "bold",  "brave",	 "brisk",  "calm",  "clever", "coral",	"crisp",
    "eager",  "fair",  "fleet",	 "gentle", "glad",  "golden", "green",	"happy",
    "keen",   "kind",  "lively", "lucid",  "merry", "mild",   "nimble", "noble",
    "plucky", "quick", "quiet",	 "rapid",  "sharp", "silver", "steady", "sunny",
    "swift",  "tidy",  "vivid",	 "warm",   "wise",  "witty",  "young",	"zesty",
};

static const char *const nouns[] = {
    "badger", "beaver", "bison", "crane",  "falcon", "ferret", "finch",	 "fox",	   "gecko", "heron",
    "ibis",   "jackal", "koala", "lark",   "lemur",  "lynx",   "marten", "mole",   "moose", "newt",
    "otter",  "owl",	"panda", "puffin", "quail",  "raven",  "robin",	 "salmon", "seal",  "shrew",
    "stoat",  "swan",	"tapir", "thrush", "toad",   "trout",  "viper",	 "walrus", "wren",  "yak",
};

char *name_generate(uint64_t seed, unsigned attempt)
{
	/* splitmix64: a cheap, well-spread mix of the seed. */
	uint64_t z = seed + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	z ^= z >> 31;
	const char *adj = adjectives[z % ARRAY_SIZE(adjectives)];
	const char *noun = nouns[(z >> 32) % ARRAY_SIZE(nouns)];

	if (attempt == 0)
		return xasprintf("%s-%s", adj, noun);
	return xasprintf("%s-%s-%u", adj, noun, attempt + 1);
}
