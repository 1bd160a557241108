#!/usr/bin/env bash
# Runs once, when the primary's data volume is first initialised (docker-entrypoint-initdb.d):
# a replication role for the read replica and a pg_hba line letting it stream.
set -euo pipefail
: "${RNU_REPLICATION_PASSWORD:?set RNU_REPLICATION_PASSWORD}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v pw="$RNU_REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'pw';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
