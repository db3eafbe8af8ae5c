import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * - `admin_areas.path` (`ML/ML-2/ML-2-KATI/ML-2-KATI-KATI`): "every area within X" becomes an
 *   index range scan, so access scoping (role × area) stays plain indexed SQL. Filled here with a
 *   recursive CTE, then kept by triggers (a new area, a renamed code or a moved area and all of
 *   its descendants).
 * - `idempotency_keys`: the first answer to a write carrying an `Idempotency-Key`, per user.
 * - `access_audit`: every read of a sensitive case and every denied access (append-only).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table admin_areas add column path text`.execute(db)
  await sql`
    with recursive tree(code, path) as (
      select code, code from admin_areas where parent_code is null
      union all
      select a.code, tree.path || '/' || a.code
      from admin_areas a join tree on a.parent_code = tree.code
    )
    update admin_areas set path = tree.path from tree where admin_areas.code = tree.code`.execute(
    db,
  )
  await sql`alter table admin_areas alter column path set not null`.execute(db)
  // text_pattern_ops: byte-wise order, so `path ~>=~ 'ML/ML-2/'` and prefix LIKEs use the index.
  await sql`create index admin_areas_path_idx on admin_areas (path text_pattern_ops)`.execute(db)

  await sql`
    create function admin_areas_set_path() returns trigger language plpgsql as $$
    begin
      if new.parent_code is null then
        new.path := new.code;
      else
        select p.path || '/' || new.code into new.path from admin_areas p
        where p.code = new.parent_code;
        if new.path is null then
          raise exception 'admin area % has an unknown parent %', new.code, new.parent_code
            using errcode = 'foreign_key_violation';
        end if;
      end if;
      return new;
    end
    $$`.execute(db)
  await sql`
    create trigger admin_areas_path_on_write before insert or update of code, parent_code
    on admin_areas for each row execute function admin_areas_set_path()`.execute(db)
  // A moved or renamed area carries its whole subtree with it.
  await sql`
    create function admin_areas_move_subtree() returns trigger language plpgsql as $$
    begin
      if new.path is distinct from old.path then
        update admin_areas set path = new.path || substr(path, length(old.path) + 1)
        where substr(path, 1, length(old.path) + 1) = old.path || '/';
      end if;
      return null;
    end
    $$`.execute(db)
  await sql`
    create trigger admin_areas_path_subtree after update of code, parent_code on admin_areas
    for each row execute function admin_areas_move_subtree()`.execute(db)

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    // sha-256 of method, path and the canonical body: the same key with another body is refused.
    .addColumn('request_hash', 'text', (c) => c.notNull())
    // Null while the first request runs; then the answer every repetition replays.
    .addColumn('status', 'integer')
    // json, not jsonb: the replayed answer keeps the first one's exact key order.
    .addColumn('response', 'json')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('completed_at', 'timestamptz')
    .addPrimaryKeyConstraint('idempotency_keys_pkey', ['user_id', 'key'])
    .execute()
  await db.schema
    .createIndex('idempotency_keys_created_idx')
    .on('idempotency_keys')
    .column('created_at')
    .execute()

  await db.schema
    .createTable('access_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    // No foreign key: a probe for a case id that does not exist is recorded too.
    .addColumn('case_id', 'text')
    .addColumn('task_id', 'text')
    .addColumn('action', 'text', (c) =>
      c.notNull().check(sql`action in ('read', 'list', 'denied', 'not_found')`),
    )
    .addColumn('role', 'text')
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('access_audit_case_at_idx')
    .on('access_audit')
    .columns(['case_id', 'at'])
    .execute()
  await db.schema
    .createIndex('access_audit_user_at_idx')
    .on('access_audit')
    .columns(['user_id', 'at'])
    .execute()
  await sql`
    create function access_audit_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'access_audit is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
    end
    $$`.execute(db)
  await sql`
    create trigger access_audit_no_update_delete before update or delete on access_audit
    for each row execute function access_audit_refuse_change()`.execute(db)
  await sql`
    create trigger access_audit_no_truncate before truncate on access_audit
    for each statement execute function access_audit_refuse_change()`.execute(db)
  await sql`revoke update, delete, truncate on access_audit from public`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('access_audit').execute()
  await sql`drop function access_audit_refuse_change()`.execute(db)
  await db.schema.dropTable('idempotency_keys').execute()
  await sql`drop trigger admin_areas_path_subtree on admin_areas`.execute(db)
  await sql`drop trigger admin_areas_path_on_write on admin_areas`.execute(db)
  await sql`drop function admin_areas_move_subtree()`.execute(db)
  await sql`drop function admin_areas_set_path()`.execute(db)
  await sql`alter table admin_areas drop column path`.execute(db)
}
