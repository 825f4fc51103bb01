#!/usr/bin/env bash
# Creates the school-improvement history database (SI_HISTORY_URL) beside Airflow's metadata database.
#
# The postgres image runs the scripts in /docker-entrypoint-initdb.d once, when it initialises an empty data
# volume; docker-compose.yaml mounts this folder there. On an existing volume it does not run again: to add
# the database to a running server, run this script by hand in the container:
#   docker compose exec -e SI_HISTORY_DB_PASSWORD postgres bash /docker-entrypoint-initdb.d/init-history-db.sh
# Safe to run more than once: the role and database are created only when missing, the password is (re)set.
set -euo pipefail

: "${SI_HISTORY_DB_PASSWORD:?SI_HISTORY_DB_PASSWORD must be set (see .env.example)}"

psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
     -v si_password="$SI_HISTORY_DB_PASSWORD" <<'SQL'
SELECT 'CREATE ROLE si_history LOGIN'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'si_history')\gexec
ALTER ROLE si_history WITH LOGIN PASSWORD :'si_password';
SELECT 'CREATE DATABASE si_history OWNER si_history ENCODING ''UTF8'''
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'si_history')\gexec
REVOKE ALL ON DATABASE si_history FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE si_history TO si_history;
SQL
echo "si_history database ready"
