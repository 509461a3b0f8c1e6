/*
 * fuzz_tagslist — libFuzzer target for what a registry answers to tags/list:
 * the page body and the Link header. Kept tags are valid tags; a next-page
 * URL is always on the origin we asked.
 */
#include "tagslist.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BASE "http://127.0.0.1:5000"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tagslist l = {0};
	char url[TAGSLIST_URL_MAX], *s = malloc(size + 1);
	const char *err = NULL;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (tagslist_page(&l, s, size, &err) < 0 && !err)
		abort();
	for (size_t i = 0; i < l.n; i++)
		if (!l.tags[i][0] || strlen(l.tags[i]) > 128 || strchr(".-", l.tags[i][0]))
			abort();
	if (tagslist_next_url(s, BASE, url, sizeof(url)) == 1 &&
	    strncmp(url, BASE "/", sizeof(BASE)))
		abort();
	tagslist_done(&l);
	free(s);
	return 0;
}
