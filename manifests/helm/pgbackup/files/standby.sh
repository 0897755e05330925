# Init container of every pod when replicas > 1 (rendered by the chart). Ordinal 0 is the primary: nothing to do.
# A standby's first start: its replication role and slot on the primary, a copy of the primary (pg_basebackup),
# then standby.signal and primary_conninfo, so the server streams from the primary. Later starts only renew the
# password file (the secret never goes into the data directory, which backups copy).
set -Eeuo pipefail
ordinal=${HOSTNAME##*-}
[ "$ordinal" != 0 ] || exit 0
# The primary from this pod's own name and domain (<statefulset>-N.<headless service>.<namespace>.svc...., which the
# kubelet writes into /etc/hosts), so a restored copy under another name or namespace clones its own primary.
domain=$(awk -v h="$HOSTNAME" '!/^#/ { for (i = 2; i <= NF; i++) if (index($i, h ".") == 1) { print substr($i, length(h) + 2); exit } }' /etc/hosts)
[ -n "$domain" ] || { echo "standby: no <pod>.<service> name for $HOSTNAME in /etc/hosts (is spec.serviceName set?)" >&2; exit 1; }
primary=${HOSTNAME%-*}-0.$domain
user=$PGBACKUP_REPLICATION_USER
slot=${HOSTNAME//-/_}
passfile=/var/run/postgresql/replication.pgpass
( umask 077; printf '*:*:*:%s:%s\n' "$user" "$PGBACKUP_REPLICATION_PASSWORD" >"$passfile" )
if [ -s "$PGDATA/PG_VERSION" ]; then
  echo "standby: $PGDATA is initialised; streaming resumes from $primary"
  exit 0
fi
# Files without PG_VERSION are not a database this script made: refuse rather than clone beside (or over) them.
if [ -n "$(ls -A "$PGDATA" 2>/dev/null)" ]; then
  echo "standby: $PGDATA holds files but no PG_VERSION; move them away (nothing was deleted), then restart the pod" >&2
  exit 1
fi
until pg_isready -q -h "$primary" -p 5432; do echo "standby: waiting for the primary $primary"; sleep 2; done
# The role and the slot, as the superuser (idempotent: a re-clone after scaling down and up reuses the slot).
PGPASSWORD=$POSTGRES_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h "$primary" -U "$POSTGRES_USER" -d postgres \
  -v user="$user" -v pw="$PGBACKUP_REPLICATION_PASSWORD" -v slot="$slot" <<'SQL'
SELECT format('CREATE ROLE %I', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \gexec
ALTER ROLE :"user" WITH LOGIN REPLICATION PASSWORD :'pw';
SELECT pg_create_physical_replication_slot(:'slot') WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = :'slot');
SQL
echo "standby: cloning $primary into $PGDATA (slot $slot)"
rm -rf "$PGDATA.clone"
PGPASSFILE=$passfile pg_basebackup -h "$primary" -U "$user" -D "$PGDATA.clone" -X stream -S "$slot" -c fast
touch "$PGDATA.clone/standby.signal"
cat >>"$PGDATA.clone/postgresql.auto.conf" <<CONF
primary_conninfo = 'host=$primary port=5432 user=$user passfile=$passfile application_name=$HOSTNAME'
primary_slot_name = '$slot'
CONF
# Only a complete copy becomes the data directory: a clone cut short starts over on the next try.
rmdir "$PGDATA" 2>/dev/null || [ ! -e "$PGDATA" ]
mv -T "$PGDATA.clone" "$PGDATA"
echo "standby: cloned; streaming from $primary"
