/*
 * store_db_int.h - what a back-end of the database abstraction provides
 * (store_db_sqlite.c, store_db_pg.c; dispatched by store_db.c). Private
 * to those three files. A back-end embeds struct db and struct db_stmt
 * first in its own structs.
 */
#ifndef ASSAY_STORE_DB_INT_H
#define ASSAY_STORE_DB_INT_H

#include "store/store_db.h"

struct db_ops {
	void (*close)(struct db *db);
	const char *(*errmsg)(struct db *db);
	char *(*quick_check)(struct db *db);
	bool (*tune)(struct db *db);
	bool (*exec)(struct db *db, const char *sql);  /* expanded already */
	bool (*begin)(struct db *db, bool exclusive);
	bool (*commit)(struct db *db);
	void (*rollback)(struct db *db);
	bool (*in_tx)(struct db *db);
	/* sql expanded already, with n_params parameters */
	int (*prepare)(struct db *db, const char *sql, int n_params,
		       unsigned flags, struct db_stmt **out);
	bool (*readonly)(const struct db_stmt *s);
	void (*bind_int64)(struct db_stmt *s, int i, int64_t v);
	void (*bind_double)(struct db_stmt *s, int i, double v);
	void (*bind_text)(struct db_stmt *s, int i, const char *v);
	void (*bind_blob)(struct db_stmt *s, int i, const void *p, size_t n);
	void (*bind_null)(struct db_stmt *s, int i);
	int (*step)(struct db_stmt *s);
	bool (*col_null)(struct db_stmt *s, int i);
	int64_t (*col_int64)(struct db_stmt *s, int i);
	double (*col_double)(struct db_stmt *s, int i);
	const char *(*col_text)(struct db_stmt *s, int i);
	const void *(*col_blob)(struct db_stmt *s, int i, size_t *n);
	void (*reset)(struct db_stmt *s);
	void (*finalize)(struct db_stmt *s);
};

struct db {
	const struct db_ops *ops;
	enum db_kind kind;
	int64_t changes;       /* of the last statement that finished */
};

struct db_stmt {
	struct db *db;
};

enum err db_sqlite_open(const char *path, struct db **db_out,
			struct errmsg *e) MUST_CHECK;
enum err db_pg_open(const char *url, struct db **db_out,
		    struct errmsg *e) MUST_CHECK;

#endif
