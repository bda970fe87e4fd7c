/*
 * store_db_pg.c - the database abstraction on PostgreSQL (the only file
 * that will include libpq-fe.h; contract in store_db.h).
 */
#include "store/store_db_int.h"

#include "base/banned.h"

enum err db_pg_open(const char *url, struct db **db_out, struct errmsg *e)
{
	(void)url;
	*db_out = NULL;
	return err_set(e, ERR_STORE, "PostgreSQL stores are not supported by "
		       "this assay yet");
}
