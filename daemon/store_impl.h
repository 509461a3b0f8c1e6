/*
 * store_impl.h — the store's private state, shared by the files of the store
 * module only (store.c writes, store_query.c reads). Nobody else includes it.
 */
#ifndef REFIT_STORE_IMPL_H
#define REFIT_STORE_IMPL_H

#include <sqlite3.h>

struct store {
	sqlite3 *db;
	int version;
};

#endif
