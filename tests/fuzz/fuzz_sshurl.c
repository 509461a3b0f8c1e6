/* libFuzzer target: ssh:// engine addresses (sshurl_parse) and -o file names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sshurl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshurl u;
	char err[160], *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (sshurl_parse(s, &u, err, sizeof(err)) == 0 &&
	    (u.user[0] == '-' || u.host[0] == '-' || u.socket[0] != '/' || !u.port))
		abort(); /* would reach ssh as an option */
	sshurl_check_file(s);
	free(s);
	return 0;
}
