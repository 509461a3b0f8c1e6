#include "bed.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int load_env(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '=');
		line[strcspn(line, "\n")] = '\0';
		if (!eq)
			continue;
		*eq = '\0';
		setenv(line, eq + 1, 1);
	}
	fclose(f);
	return 0;
}

int bed_start(struct bed *b, const char *components)
{
	char cmd[512];

	snprintf(b->envfile, sizeof(b->envfile), "/tmp/refit-bed-%d.env", (int)getpid());
	unlink(b->envfile);
	snprintf(cmd, sizeof(cmd), "exec bash tests/testbed/testbed.sh serve %s %s", b->envfile,
	         components);
	b->pid = fork();
	if (b->pid == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 1200; i++) { /* up to 120 s: dockerd and a first build */
		int status;
		if (access(b->envfile, R_OK) == 0)
			return load_env(b->envfile);
		if (waitpid(b->pid, &status, WNOHANG) == b->pid) {
			b->pid = 0;
			return -1;
		}
		usleep(100000);
	}
	bed_stop(b);
	return -1;
}

void bed_stop(struct bed *b)
{
	if (b->pid > 0) {
		kill(b->pid, SIGTERM);
		waitpid(b->pid, NULL, 0);
		b->pid = 0;
	}
	unlink(b->envfile);
}

int bed_sh(const char *cmd)
{
	char full[1024];

	snprintf(full, sizeof(full), "bash -c '. tests/testbed/testbed.sh; %s'", cmd);
	return system(full) == 0 ? 0 : -1;
}

int bed_sh_out(const char *cmd, char *buf, size_t len)
{
	char full[1024];
	FILE *p;
	int r = -1;

	snprintf(full, sizeof(full), "bash -c '. tests/testbed/testbed.sh; %s'", cmd);
	p = popen(full, "r");
	if (!p)
		return -1;
	if (fgets(buf, (int)len, p)) {
		buf[strcspn(buf, "\n")] = '\0';
		r = 0;
	}
	return pclose(p) == 0 ? r : -1;
}
