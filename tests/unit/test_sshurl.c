/* sshurl: ssh:// engine addresses, and what may reach ssh's command line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sshurl.h"

static void test_parse(void **state)
{
	struct sshurl u;
	char err[200];

	(void)state;
	assert_int_equal(sshurl_parse("ssh://refit@build2.example", &u, err, sizeof(err)), 0);
	assert_string_equal(u.user, "refit");
	assert_string_equal(u.host, "build2.example");
	assert_int_equal(u.port, 22);
	assert_string_equal(u.socket, "/var/run/docker.sock");
	assert_int_equal(sshurl_parse("ssh://root@127.0.0.1:2222/run/podman/podman.sock", &u, err,
	                              sizeof(err)),
	                 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_int_equal(u.port, 2222);
	assert_string_equal(u.socket, "/run/podman/podman.sock");
	assert_int_equal(sshurl_parse("ssh://u@[::1]:22/", &u, err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.socket, "/var/run/docker.sock");
}

static void test_refused(void **state)
{
	static const char *const bad[] = {
	        "ssh://host",    "ssh://@host",    "ssh://-oProxyCommand=x@h",
	        "ssh://u@-oX",   "ssh://u@h:0",    "ssh://u@h:65536",
	        "ssh://u@h:",    "ssh://u@h:22x",  "ssh://u@h:-1",
	        "ssh://u@h/a:b", "ssh://u@h/a b",  "ssh://u@h/%d",
	        "ssh://u@[::1",  "ssh://u@[::1]x", "ssh://u@h h",
	        "tcp://u@h",     "ssh://u v@h",    "ssh://u@.h",
	};
	struct sshurl u;
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (sshurl_parse(bad[i], &u, err, sizeof(err)) != -22)
			fail_msg("accepted: %s", bad[i]);
		assert_true(err[0]);
	}
}

static void test_file(void **state)
{
	(void)state;
	assert_int_equal(sshurl_check_file("/etc/refit/known_hosts"), 0);
	assert_int_equal(sshurl_check_file("refit_ssh-key"), 0);
	assert_int_not_equal(sshurl_check_file("~/.ssh/id"), 0);
	assert_int_not_equal(sshurl_check_file("/a b"), 0);
	assert_int_not_equal(sshurl_check_file("/a/%h"), 0);
	assert_int_not_equal(sshurl_check_file("-oX"), 0);
	assert_int_not_equal(sshurl_check_file(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse),
	                                   cmocka_unit_test(test_refused),
	                                   cmocka_unit_test(test_file)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
