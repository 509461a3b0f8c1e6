#include "frontend.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "engine_ops.h"
#include "ref.h"
#include "registry.h"

struct frontend_check {
	struct engine *engine;
	struct registry_pool *reg;
	frontend_check_cb cb;
	void *arg;
	struct engine_op *op;
	bool in_registry; /* the registry lookup is in flight */
	char image[REF_STRING_MAX];
	struct image_ref ref;
};

static void done(struct frontend_check *c, int status, const char *why)
{
	c->cb(status, why, c->arg);
	free(c);
}

static void registry_done_cb(int status, const struct registry_result *r, void *arg)
{
	struct frontend_check *c = arg;
	char why[REF_STRING_MAX + 600];
	const char *detail = r && r->error ? r->error : "no detail";

	c->in_registry = false;
	if (status == 0)
		snprintf(why, sizeof(why), "the frontend image %s answers in its registry",
		         c->image);
	else if (status == -ENOENT)
		snprintf(why, sizeof(why),
		         "the frontend image %s is neither in the engine nor in its "
		         "registry: not found (%s)",
		         c->image, detail);
	else if (status == -EACCES)
		snprintf(why, sizeof(why),
		         "the frontend image %s is not in the engine, and its registry "
		         "says unauthorized (%s)",
		         c->image, detail);
	else
		snprintf(why, sizeof(why),
		         "the frontend image %s is not in the engine, and its registry "
		         "is unreachable (%s)",
		         c->image, detail);
	done(c, status, why);
}

static void inspect_cb(const struct engine_outcome *o, void *arg)
{
	struct frontend_check *c = arg;
	struct registry_lookup l = {&c->ref, NULL, NULL, NULL};
	char why[REF_STRING_MAX + 100];
	int r;

	c->op = NULL;
	if (o->status == 0) {
		snprintf(why, sizeof(why), "the frontend image %s is in the engine", c->image);
		done(c, 0, why);
		return;
	}
	c->in_registry = true;
	r = registry_digest(c->reg, &l, registry_done_cb, c);
	if (r < 0) {
		c->in_registry = false;
		snprintf(why, sizeof(why), "the frontend image %s cannot be looked up: %s",
		         c->image, strerror(-r));
		done(c, r, why);
	}
}

int frontend_check(struct engine *e, struct registry_pool *reg, const char *image,
                   frontend_check_cb cb, void *arg, struct frontend_check **ret)
{
	struct frontend_check *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	*c = (struct frontend_check){.engine = e, .reg = reg, .cb = cb, .arg = arg};
	if (ref_parse(image, &c->ref, NULL) < 0) {
		free(c);
		return -EINVAL;
	}
	ref_tag_name_only(&c->ref);
	if (ref_string(&c->ref, c->image, sizeof(c->image)) < 0) {
		free(c);
		return -EINVAL;
	}
	r = engine_inspect(e, c->image, inspect_cb, c, &c->op);
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = c;
	return 0;
}

void frontend_check_cancel(struct frontend_check *c)
{
	if (!c)
		return;
	engine_op_cancel(c->op);
	if (c->in_registry)
		registry_cancel(c->reg, registry_done_cb, c);
	free(c);
}
