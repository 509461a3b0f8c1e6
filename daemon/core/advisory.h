/*
 * advisory — which stored advisories affect which image, and when that is
 * a reason to rebuild.
 *
 * A build's inventory (store_feed.h) is matched package by package against
 * the advisories of its ecosystem: Debian and Ubuntu by source package and
 * source version (OSV and the tracker key on sources), then by binary name;
 * Alpine by origin, then by name; PyPI by PEP 503 name. osv_eval() decides
 * with the ecosystem's version ordering.
 *
 * The states of a match (store_feed.h) carry from one image of an
 * environment to the next, which is what stops loops: a fixable advisory
 * triggers one no-cache rebuild; if the rebuilt image still has it, the
 * distribution has not shipped the fix yet and it becomes pending-upstream,
 * which triggers again only when the feed changes the advisory (seen_at).
 */
#ifndef REFIT_ADVISORY_H
#define REFIT_ADVISORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;
struct config;
struct pins;

struct advisory_hit {
	char *id, *package, *ecosystem, *installed, *fixed; /* fixed NULL: no fix known */
	char *state;
	uint64_t seen_at;
	char *pin_file, *pin_version, *pin_package; /* where the context pins it; NULL: nowhere */
	int pin_line, pin_col;
};

struct advisory_hits {
	struct advisory_hit *v;
	size_t n, cap;
};

/*
 * Matches build_id's inventory against the stored advisories (no states set).
 * With pins (the build context's, pinload.h), a match whose installed package
 * is pinned at that version (and whose fix the pin excludes) notes where.
 */
int advisory_match(struct store *s, int64_t build_id, const struct pins *pins,
                   struct advisory_hits *ret);

void advisory_hits_done(struct advisory_hits *h);

/*
 * Records the matches of a new build: states carried from the environment's
 * previous image, needs-change for what the context pins (pins may be NULL),
 * pending-upstream for what a no-cache build still has, "fixed" rows for
 * what the previous image had and this one has not. The fixed ids go to
 * ret_fixes ("ID,ID,...", malloc'd, NULL when none).
 */
int advisory_record_build(struct store *s, int64_t build_id, bool nocache, const struct pins *pins,
                          char **ret_fixes);

/*
 * Re-matches the current image of every environment of project against the
 * advisories now stored (with project NULL: of every image that has a
 * package whose advisories the feeds changed since the last such scan), and
 * adds a "security" trigger for each project with an open fixable
 * advisory. The context's pins are read again for each environment
 * (pinload.h): a pinned match is needs-change and triggers nothing, and one
 * whose pin was changed becomes fixable. Returns the number of projects
 * triggered, or a negative errno.
 */
int advisory_scan(struct store *s, const struct config *cfg, const char *project, uint64_t now);

struct notify;

/* advisory_scan that also sends the advisory webhook event (n may be NULL) for each
 * fixable or needs-change advisory new to an environment. */
int advisory_scan_notify(struct store *s, const struct config *cfg, const char *project,
                         uint64_t now, struct notify *n);

/* The io.refit.fixes label value for fixes: as many ids as fit in max bytes, then "+N". */
void advisory_fixes_label(const char *fixes, char *buf, size_t max);

#endif
