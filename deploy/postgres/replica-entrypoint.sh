#!/usr/bin/env bash
# The read replica: clone the primary once, then run as a hot standby streaming its WAL.
set -euo pipefail
: "${PRIMARY_HOST:?}" "${RNU_REPLICATION_PASSWORD:?}" "${PGDATA:?}"
export PGPASSWORD="$RNU_REPLICATION_PASSWORD"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA" && chmod 700 "$PGDATA"
  until pg_basebackup --host="$PRIMARY_HOST" --username=replicator --pgdata="$PGDATA" \
      --wal-method=stream --write-recovery-conf --checkpoint=fast --no-password; do
    echo "waiting for the primary to accept a base backup…"; rm -rf "${PGDATA:?}"/*; sleep 3
  done
fi
exec postgres -c hot_standby=on -c max_connections=300
