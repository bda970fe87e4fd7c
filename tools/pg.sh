#!/bin/bash
# A throwaway PostgreSQL cluster for tests, benchmarks and CI (Debian's
# postgresql 15; tools/deps.sh installs it). Nothing is left behind by
# `stop`; the cluster listens on loopback only (and on PG_LISTEN, extra
# addresses, e.g. a veth end for workers in other network namespaces),
# trusts local connections, and runs with fsync off: it holds test data.
#   tools/pg.sh start DIR        start a cluster in DIR (created; must not
#                                exist or be empty); prints its base URL
#   tools/pg.sh createdb DIR NAME   a new empty database; prints its URL
#   tools/pg.sh psql DIR NAME [ARGS...]   psql on database NAME
#   tools/pg.sh stop DIR         stop it and delete DIR
# As root the server runs as the 'postgres' user (initdb refuses root).
# PG_OPTS: more server options ("-c name=value ...").
set -eu

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bindir" ] || { echo "pg.sh: PostgreSQL is not installed (tools/deps.sh)" >&2; exit 2; }
cmd=${1:?usage: tools/pg.sh start|createdb|psql|stop DIR ...}
dir=${2:?usage: tools/pg.sh $cmd DIR}

as_pg() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		(exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null || { echo "$p"; return; }
	done
	echo "pg.sh: no free port" >&2
	return 1
}

url() { echo "postgresql://assay@127.0.0.1:$(cat "$dir/port")/$1"; }

case $cmd in
start)
	mkdir -p "$dir"
	[ -z "$(ls -A "$dir")" ] || { echo "pg.sh: '$dir' is not empty" >&2; exit 2; }
	[ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
	chmod 700 "$dir"
	as_pg "$bindir/initdb" -D "$dir/data" -U assay --auth=trust \
		--no-locale -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; exit 3; }
	# PG_LISTEN addresses: clients on their subnets are trusted too
	[ -z "${PG_LISTEN:-}" ] || echo "host all all samenet trust" >>"$dir/data/pg_hba.conf"
	port=$(free_port)
	echo "$port" >"$dir/port"
	listen="127.0.0.1${PG_LISTEN:+,$PG_LISTEN}"
	as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -s \
		-o "-c listen_addresses='$listen' -p $port -k '$dir' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=${PG_MAX_CONNECTIONS:-200} ${PG_OPTS:-}" \
		start || { cat "$dir/server.log" >&2; exit 3; }
	url postgres
	;;
createdb)
	name=${3:?usage: tools/pg.sh createdb DIR NAME}
	as_pg "$bindir/psql" -h "$dir" -p "$(cat "$dir/port")" -U assay -d postgres -qAt \
		-c "CREATE DATABASE \"$name\"" >/dev/null
	url "$name"
	;;
psql)
	name=${3:?usage: tools/pg.sh psql DIR NAME [ARGS...]}
	shift 3
	as_pg "$bindir/psql" -h "$dir" -p "$(cat "$dir/port")" -U assay -d "$name" -X -v ON_ERROR_STOP=1 "$@"
	;;
stop)
	[ -d "$dir/data" ] && as_pg "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -s stop || true
	rm -rf "$dir"
	;;
*)
	echo "pg.sh: unknown command '$cmd'" >&2; exit 2 ;;
esac
