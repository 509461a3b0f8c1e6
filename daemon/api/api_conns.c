/*
 * api_conns — the REST API stays reachable under a flood of idle or half-sent connections.
 * libmicrohttpd gives every connection the same idle timeout and, once its connection limit
 * is reached, stops accepting: 10,000 connections that never finish a request head kept
 * every slot (and /healthz, which probes depend on) for the whole timeout.
 *
 * So each connection is followed from accept to close (MHD_OPTION_NOTIFY_CONNECTION):
 * while it waits for a request head its timeout is short (API_HEAD_TIMEOUT_S); once a head
 * is in, it gets the configured one until its answer is sent. And when the connections
 * reach the limit less a reserve, the oldest one still waiting for a head is shut down
 * (shutdown(2): MHD sees the end of the stream and closes it), so that a new client always
 * finds a slot: it is the newest, and it sends its head at once.
 */
#include "api_server.h"

#include <stdlib.h>
#include <sys/socket.h>

#include "log.h"

/* Seconds a connection may take to send a whole request head (nginx: client_header_timeout). */
#define API_HEAD_TIMEOUT_S 5u

struct api_conn {
	struct api_conn *prev, *next; /* oldest first */
	struct MHD_Connection *c;
	int fd;
	bool busy; /* a request head is in: not shed */
	bool shed; /* shut down, waiting for MHD to close it */
};

static void unlink_conn(struct api_conns *l, struct api_conn *x)
{
	if (x->prev)
		x->prev->next = x->next;
	else
		l->first = x->next;
	if (x->next)
		x->next->prev = x->prev;
	else
		l->last = x->prev;
	x->prev = x->next = NULL;
}

static void append(struct api_conns *l, struct api_conn *x)
{
	x->prev = l->last;
	x->next = NULL;
	if (l->last)
		l->last->next = x;
	else
		l->first = x;
	l->last = x;
}

static void set_timeout(struct MHD_Connection *c, unsigned s)
{
	MHD_set_connection_option(c, MHD_CONNECTION_OPTION_TIMEOUT, s);
}

static unsigned head_timeout(const struct api *a)
{
	return a->opts.timeout_s && a->opts.timeout_s < API_HEAD_TIMEOUT_S ? a->opts.timeout_s
	                                                                   : API_HEAD_TIMEOUT_S;
}

/* Makes room for one more: the oldest connection that has not sent a request head goes. */
static void shed_oldest(struct api *a)
{
	struct api_conns *l = &a->conns;
	unsigned reserve = a->opts.max_connections / 16 + 1;

	if (l->n + reserve < a->opts.max_connections)
		return;
	for (struct api_conn *x = l->first; x; x = x->next)
		if (!x->busy && !x->shed) {
			x->shed = true;
			shutdown(x->fd, SHUT_RDWR);
			if (l->shed++ % 1000 == 0)
				log_warn(
				        "REST API: %u connections open: closing those that sent no "
				        "request (%llu so far)",
				        l->n, (unsigned long long)l->shed);
			return;
		}
}

void api_conns_notify_cb(void *cls, struct MHD_Connection *c, void **socket_context,
                         enum MHD_ConnectionNotificationCode code)
{
	struct api *a = cls;
	struct api_conn *x = *socket_context;
	const union MHD_ConnectionInfo *fd;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (x) {
			unlink_conn(&a->conns, x);
			a->conns.n--;
			free(x);
		}
		*socket_context = NULL;
		return;
	}
	shed_oldest(a);
	fd = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	x = calloc(1, sizeof(*x));
	if (!x || !fd) {
		free(x);
		return; /* not followed: MHD's own limits and timeout still apply */
	}
	x->c = c;
	x->fd = fd->connect_fd;
	append(&a->conns, x);
	a->conns.n++;
	*socket_context = x;
	set_timeout(c, head_timeout(a));
}

static struct api_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *i =
	        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return i ? i->socket_context : NULL;
}

void api_conns_request(struct api *a, struct MHD_Connection *c)
{
	struct api_conn *x = conn_of(c);

	if (!x || x->busy)
		return;
	x->busy = true;
	set_timeout(c, a->opts.timeout_s);
}

void api_conns_idle(struct api *a, struct MHD_Connection *c)
{
	struct api_conn *x = conn_of(c);

	if (!x || !x->busy)
		return;
	/* kept alive for a next request: the newest of those waiting for a head */
	x->busy = false;
	unlink_conn(&a->conns, x);
	append(&a->conns, x);
	set_timeout(c, head_timeout(a));
}
