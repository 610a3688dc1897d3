#!/usr/bin/env bash
# Makes a Postgres server answer on 127.0.0.1:5432 for the test suite: installs Debian's
# postgresql when it is missing, creates a cluster when there is none, lets the `postgres` user in
# over 127.0.0.1 without a password, starts the server and creates the `test` database that
# TEST_DATABASE_URL names. Safe to run again: each step is skipped when already done.
set -euo pipefail

say() { printf 'test-postgres: %s\n' "$*" >&2; }
ready() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
as_root() {
  if [ "$(id -u)" -ne 0 ]; then
    say "$1 needs root; run this script as root, or start Postgres on 127.0.0.1:5432 yourself"
    exit 1
  fi
}

if ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
  as_root "installing Debian's postgresql"
  say "installing Debian's postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi

version=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' | sort -V | tail -n 1)
if ! pg_lsclusters --no-header | awk '{ print $1, $2 }' | grep -qx "$version main"; then
  as_root "creating a Postgres cluster"
  say "creating cluster $version/main"
  # pg_createcluster runs initdb as the postgres user (initdb refuses root).
  pg_createcluster "$version" main --port 5432 >/dev/null
fi

hba="/etc/postgresql/$version/main/pg_hba.conf"
trust='host all postgres 127.0.0.1/32 trust'
if ! grep -qxF "$trust" "$hba"; then
  as_root "letting postgres in over 127.0.0.1"
  # The first matching line wins, so the trust line goes before Debian's scram-sha-256 lines.
  sed -i "1i $trust" "$hba"
  if ready; then pg_ctlcluster --skip-systemctl-redirect "$version" main reload; fi
fi

# The suite creates and drops hundreds of databases while other test files write: durability is
# not what it tests (the fault suite runs a cluster of its own), and a forced checkpoint
# of each DROP DATABASE on a slow shared disk only makes clean-ups slow.
tuning="/etc/postgresql/$version/main/conf.d/fleet-rollout-tests.conf"
wanted=$'fsync = off\nsynchronous_commit = off\nfull_page_writes = off'
if [ "$(cat "$tuning" 2>/dev/null)" != "$wanted" ]; then
  as_root "tuning the test cluster"
  printf '%s\n' "$wanted" >"$tuning"
  if ready; then pg_ctlcluster --skip-systemctl-redirect "$version" main reload; fi
fi

if ! ready; then
  say "starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
  for _ in $(seq 1 60); do ready && break; sleep 0.5; done
  ready || { say "Postgres did not come up on 127.0.0.1:5432"; exit 1; }
fi

exists=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc "select 1 from pg_database where datname = 'test'")
if [ "$exists" != 1 ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test'
fi
