#!/usr/bin/env bash
# Makes sure PostgreSQL and Redis answer on 127.0.0.1 and that the test database roles exist.
# Starts the servers when they are installed but stopped; says what is missing otherwise.
set -euo pipefail

PGHOST=127.0.0.1
PGPORT=5432
OWNER_ROLE=${DB_OWNER_ROLE:-helpdesk_owner}
APP_ROLE=${DATABASE_APP_ROLE:-helpdesk_app}

pg_up() { pg_isready -h "$PGHOST" -p "$PGPORT" -q 2>/dev/null; }
redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }

if ! pg_up; then
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    echo "PostgreSQL is not answering on $PGHOST:$PGPORT: starting it."
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  fi
  if ! pg_up; then
    echo "ERROR: PostgreSQL is required on $PGHOST:$PGPORT and is not installed or would not start." >&2
    echo "       Install it (Debian: apt-get install -y postgresql) or start it, then run 'make test' again." >&2
    exit 1
  fi
fi

if ! redis_up; then
  if command -v redis-server >/dev/null 2>&1; then
    echo "Redis is not answering on 127.0.0.1:6379: starting it."
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
    for _ in $(seq 1 20); do redis_up && break; sleep 0.5; done
  fi
  if ! redis_up; then
    echo "ERROR: Redis is required on 127.0.0.1:6379 and is not installed or would not start." >&2
    echo "       Install it (Debian: apt-get install -y redis-server) or start it, then run 'make test' again." >&2
    exit 1
  fi
fi

# The owner creates databases and owns the tables; the app role is what the application connects as, so
# row-level security applies to it (it is neither superuser, nor owner, nor BYPASSRLS).
psql_admin() {
  if psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc "SELECT 1" >/dev/null 2>&1; then
    psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q "$@"
  else
    su postgres -c "psql -d postgres -v ON_ERROR_STOP=1 -q $(printf '%q ' "$@")"
  fi
}
psql_admin <<SQL
DO \$\$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$OWNER_ROLE') THEN
    CREATE ROLE $OWNER_ROLE LOGIN CREATEDB;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$APP_ROLE') THEN
    CREATE ROLE $APP_ROLE LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB;
  END IF;
END
\$\$;
SQL
if ! psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'helpdesk'" 2>/dev/null | grep -q 1; then
  psql_admin -c "CREATE DATABASE helpdesk OWNER $OWNER_ROLE" || true
fi
echo "PostgreSQL and Redis are ready (roles $OWNER_ROLE, $APP_ROLE)."
