#!/usr/bin/env bash
# Build and install Citus from ../shared/vendor (Debian has no package): `make citus`.
# Idempotent: does nothing when this version is already installed for PostgreSQL 15.
# CITUS_SOURCE overrides the tarball's path.
set -euo pipefail
VERSION=13.2.2
PG=15
HERE="$(cd "$(dirname "$0")/.." && pwd)"
SOURCE="${CITUS_SOURCE:-$HERE/../shared/vendor/citus-$VERSION.tar.gz}"
LIB=/usr/lib/postgresql/$PG/lib/citus.so
CONTROL=/usr/share/postgresql/$PG/extension/citus.control

if [ -f "$LIB" ] && grep -q "default_version = '13.2-1'" "$CONTROL" 2>/dev/null; then
  echo "Citus $VERSION is installed for PostgreSQL $PG"
  exit 0
fi
if [ ! -f "$SOURCE" ]; then
  echo "Citus source not found at $SOURCE: put citus-$VERSION.tar.gz there (or set CITUS_SOURCE)" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "Citus is not installed: run \`make citus\` as root (it installs Debian build packages)" >&2
  exit 1
fi

DEPS="postgresql-server-dev-$PG postgresql-$PG-postgis-3 liblz4-dev libzstd-dev libkrb5-dev \
libselinux1-dev libxslt1-dev libpam0g-dev libreadline-dev build-essential"
# shellcheck disable=SC2086
if ! dpkg -s $DEPS >/dev/null 2>&1; then
  apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $DEPS >/dev/null
fi

BUILD="$(mktemp -d /tmp/citus-build.XXXXXX)"
trap 'rm -rf "$BUILD"' EXIT
tar xzf "$SOURCE" -C "$BUILD"
cd "$BUILD/citus-$VERSION"
# PostgreSQL 15.20 exports have_createdb_privilege(), which Citus 13.2.2 also defines as a
# static function for PostgreSQL < 16: rename Citus's copy (its one caller uses the macro).
sed -i '/^have_createdb_privilege(void)$/i #define have_createdb_privilege citus_have_createdb_privilege' \
  src/include/pg_version_compat.h
echo "building Citus $VERSION (about 2 minutes on 2 cores) ..."
./configure --without-libcurl >configure.log 2>&1 || { tail -20 configure.log; exit 1; }
make -j"$(nproc)" >make.log 2>&1 || { grep -m20 -i error make.log; exit 1; }
make install >install.log 2>&1 || { tail -20 install.log; exit 1; }
echo "Citus $VERSION installed for PostgreSQL $PG"
