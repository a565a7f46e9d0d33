-- Every statement the service sends for these routes, in the order sent, once per
-- route. Written by test/sql-snapshots.e2e-spec.ts (SQL_WRITE=1): do not edit.

-- POST /api/v1/auth/login
START TRANSACTION;

SELECT pg_advisory_xact_lock(hashtextextended('login-name:' || $1, 0)),
              pg_advisory_xact_lock(hashtextextended('login-address:' || $2, 0));

SELECT
         (SELECT created_at FROM login_failures
           WHERE username = $1 AND ip = $2 AND created_at > now() - make_interval(secs => $3)
           ORDER BY created_at DESC OFFSET $4 LIMIT 1) AS pair,
         (SELECT created_at FROM login_failures
           WHERE ip = $2 AND created_at > now() - make_interval(secs => $3)
           ORDER BY created_at DESC OFFSET $5 LIMIT 1) AS address,
         (SELECT created_at FROM login_failures
           WHERE username = $1 AND created_at > now() - make_interval(secs => $3)
           ORDER BY created_at DESC OFFSET $6 LIMIT 1) AS username,
         $7 > 0 AND EXISTS (SELECT 1 FROM login_successes
           WHERE username = $1 AND ip = $2 AND last_success_at > now() - make_interval(secs => $7)) AS known,
         now() AS now;

INSERT INTO login_failures (username, ip) VALUES ($1, $2) RETURNING id;

COMMIT;

SELECT "u"."id" AS "u_id", "u"."username" AS "u_username", "u"."password_hash" AS "u_password_hash", "u"."role" AS "u_role", "u"."client_id" AS "u_client_id", "u"."disabled" AS "u_disabled", "u"."created_at" AS "u_created_at", "u"."last_login_at" AS "u_last_login_at" FROM "users" "u" WHERE lower("u"."username" COLLATE "C") = $1;

WITH attempt AS (DELETE FROM login_failures WHERE id = $1)
       INSERT INTO login_successes (username, ip) VALUES ($2, $3)
       ON CONFLICT (username, ip) DO UPDATE SET last_success_at = now();

UPDATE "users" SET "last_login_at" = now() WHERE "id" = $1;

INSERT INTO sessions (id, user_id, last_used_at, expires_at, refresh_generation, refresh_hash, user_agent, ip)
       VALUES ($1, $2, now(), now() + make_interval(secs => $3), 0, $4, $5, $6);

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

-- GET /api/v1/auth/me
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

-- POST /api/v1/accounts
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

START TRANSACTION;

SELECT id FROM clients WHERE id = ANY($1::uuid[]) FOR KEY SHARE;

SELECT nextval('account_number_seq') AS serial;

INSERT INTO accounts (number, currency, overdraft_limit) VALUES ($1, $2, $3) RETURNING id;

INSERT INTO account_holders (account_id, client_id, added_at)
       SELECT $1, h.id, now() + (h.ord - 1) * interval '1 microsecond'
         FROM unnest($2::uuid[]) WITH ORDINALITY AS h(id, ord);

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

COMMIT;

SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a WHERE a.id = $1;

-- GET /api/v1/accounts/:id
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  )
       SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, acct.* FROM me LEFT JOIN LATERAL (
         SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a WHERE a.id = $3 AND ((CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid IS NULL OR EXISTS (
    SELECT 1 FROM account_holders vh WHERE vh.account_id = a.id AND vh.client_id = (CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid))) acct ON true;

-- GET /api/v1/accounts (a page, then the next)
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a
          WHERE true
          ORDER BY a.opened_at, a.id LIMIT $1 OFFSET $2;

SELECT CASE WHEN count(*) > 10000 THEN NULL ELSE count(*) END AS total
     FROM (SELECT 1 FROM accounts a WHERE true LIMIT $1) capped;

SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a
          WHERE true AND (a.opened_at, a.id) > ((SELECT c.opened_at FROM accounts c WHERE c.id = $1::uuid), $1::uuid)
          ORDER BY a.opened_at, a.id LIMIT $2 OFFSET $3;

-- PATCH /api/v1/accounts/:id
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

START TRANSACTION;

SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE;

SELECT * FROM accounts WHERE id = $1;

UPDATE "accounts" SET "status" = $1, "overdraft_limit" = $2 WHERE "id" = $3;

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

COMMIT;

SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a WHERE a.id = $1;

-- POST /api/v1/accounts/:id/holders
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

START TRANSACTION;

SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE;

SELECT * FROM accounts WHERE id = $1;

SELECT id FROM clients WHERE id = ANY($1::uuid[]) FOR KEY SHARE;

INSERT INTO "account_holders"("account_id", "client_id", "added_at") VALUES ($1, $2, DEFAULT) ON CONFLICT DO NOTHING  RETURNING "client_id", "added_at";

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

COMMIT;

SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a WHERE a.id = $1;

-- DELETE /api/v1/accounts/:id/holders/:clientId
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

START TRANSACTION;

SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE;

SELECT * FROM accounts WHERE id = $1;

SELECT "AccountHolder"."client_id" AS "AccountHolder_client_id", "AccountHolder"."account_id" AS "AccountHolder_account_id" FROM "account_holders" "AccountHolder" WHERE (("AccountHolder"."account_id" = $1));

DELETE FROM "account_holders" WHERE ("account_id" = $1 AND "client_id" = $2);

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

COMMIT;

-- POST /api/v1/accounts/:id/deposits
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ),
  acc AS (
    UPDATE accounts SET balance = balance + $4, operation_count = operation_count + 1
     WHERE id = $3 AND status IN ('active') AND EXISTS (SELECT 1 FROM me WHERE (cardinality($6::text[]) = 0 OR me.role = ANY($6::text[])))

    RETURNING id, balance),
  op AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT acc.id, 'credit', 'deposit', $4, acc.balance, $5, me.id
      FROM acc, me
    RETURNING *),
  audit AS (
    INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type, subject_id,
                              ip, user_agent, request_id, data)
    SELECT 'operation.deposit', me.id, me.username, me.role, 'operation', op.id::text,
           $7, $8, $9, jsonb_build_object('accountId', op.account_id, 'amount', (op.amount::numeric / 100)::numeric(20, 2)::text,
     'balanceAfter', (op.balance_after::numeric / 100)::numeric(20, 2)::text)
      FROM op, me)
  SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, op.* FROM me LEFT JOIN op ON true;

-- POST /api/v1/accounts/:id/deposits with an Idempotency-Key
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

START TRANSACTION;

SELECT pg_try_advisory_xact_lock(hashtextextended($1 || ':' || $2, 0)) AS free;

SELECT user_id, key, route, request_hash, response_status, response_type, response_body
         FROM idempotency_keys WHERE user_id = $1 AND key = $2;

SAVEPOINT idempotent_work;

WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ),
  acc AS (
    UPDATE accounts SET balance = balance + $4, operation_count = operation_count + 1
     WHERE id = $3 AND status IN ('active') AND EXISTS (SELECT 1 FROM me WHERE (cardinality($6::text[]) = 0 OR me.role = ANY($6::text[])))

    RETURNING id, balance),
  op AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT acc.id, 'credit', 'deposit', $4, acc.balance, $5, me.id
      FROM acc, me
    RETURNING *),
  audit AS (
    INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type, subject_id,
                              ip, user_agent, request_id, data)
    SELECT 'operation.deposit', me.id, me.username, me.role, 'operation', op.id::text,
           $7, $8, $9, jsonb_build_object('accountId', op.account_id, 'amount', (op.amount::numeric / 100)::numeric(20, 2)::text,
     'balanceAfter', (op.balance_after::numeric / 100)::numeric(20, 2)::text)
      FROM op, me)
  SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, op.* FROM me LEFT JOIN op ON true;

INSERT INTO idempotency_keys (user_id, key, route, request_hash, response_status, response_type, response_body)
       VALUES ($1, $2, $3, $4, $5, $6, $7);

COMMIT;

-- POST /api/v1/accounts/:id/withdrawals
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ),
  acc AS (
    UPDATE accounts SET balance = balance - $4, operation_count = operation_count + 1
     WHERE id = $3 AND status IN ('active') AND EXISTS (SELECT 1 FROM me WHERE (cardinality($6::text[]) = 0 OR me.role = ANY($6::text[])))
       AND balance - $4 >= -overdraft_limit
    RETURNING id, balance),
  op AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT acc.id, 'debit', 'withdrawal', $4, acc.balance, $5, me.id
      FROM acc, me
    RETURNING *),
  audit AS (
    INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type, subject_id,
                              ip, user_agent, request_id, data)
    SELECT 'operation.withdrawal', me.id, me.username, me.role, 'operation', op.id::text,
           $7, $8, $9, jsonb_build_object('accountId', op.account_id, 'amount', (op.amount::numeric / 100)::numeric(20, 2)::text,
     'balanceAfter', (op.balance_after::numeric / 100)::numeric(20, 2)::text)
      FROM op, me)
  SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, op.* FROM me LEFT JOIN op ON true;

-- POST /api/v1/accounts/:id/withdrawals refused
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ),
  acc AS (
    UPDATE accounts SET balance = balance - $4, operation_count = operation_count + 1
     WHERE id = $3 AND status IN ('active') AND EXISTS (SELECT 1 FROM me WHERE (cardinality($6::text[]) = 0 OR me.role = ANY($6::text[])))
       AND balance - $4 >= -overdraft_limit
    RETURNING id, balance),
  op AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, performed_by)
    SELECT acc.id, 'debit', 'withdrawal', $4, acc.balance, $5, me.id
      FROM acc, me
    RETURNING *),
  audit AS (
    INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type, subject_id,
                              ip, user_agent, request_id, data)
    SELECT 'operation.withdrawal', me.id, me.username, me.role, 'operation', op.id::text,
           $7, $8, $9, jsonb_build_object('accountId', op.account_id, 'amount', (op.amount::numeric / 100)::numeric(20, 2)::text,
     'balanceAfter', (op.balance_after::numeric / 100)::numeric(20, 2)::text)
      FROM op, me)
  SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, op.* FROM me LEFT JOIN op ON true;

SELECT status FROM accounts WHERE id = $1;

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

-- POST /api/v1/transfers
START TRANSACTION;

WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ),
  dest AS (SELECT coalesce($4::uuid, (SELECT a.id FROM accounts a WHERE a.number = $5::varchar)) AS id),
  locked AS (
    SELECT id FROM accounts WHERE id IN ($3, (SELECT id FROM dest)) AND EXISTS (SELECT 1 FROM me) ORDER BY id FOR UPDATE)
  SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, (SELECT count(*) FROM locked) AS locked, (SELECT id FROM dest) AS to_id FROM me;

WITH
  src AS (SELECT a.*, ($1::uuid IS NULL OR EXISTS (
    SELECT 1 FROM account_holders vh WHERE vh.account_id = a.id AND vh.client_id = $1::uuid)) AS mine FROM accounts a WHERE a.id = $2),
  dst AS (SELECT a.*, ($1::uuid IS NULL OR EXISTS (
    SELECT 1 FROM account_holders vh WHERE vh.account_id = a.id AND vh.client_id = $1::uuid)) AS mine FROM accounts a WHERE a.id = $3),
  ok AS (
    SELECT 1 FROM src, dst
     WHERE src.id <> dst.id AND src.mine
       AND src.status IN ('active') AND dst.status IN ('active')
       AND src.currency = dst.currency AND src.balance - $4 >= -src.overdraft_limit),
  moved AS (
    UPDATE accounts a SET balance = a.balance + CASE WHEN a.id = $2 THEN -$4::bigint ELSE $4::bigint END,
           operation_count = a.operation_count + 1
      FROM ok WHERE a.id IN ($2, $3) RETURNING a.id, a.balance),
  legs AS (
    INSERT INTO operations (account_id, type, kind, amount, balance_after, description, transfer_id, performed_by)
    SELECT m.id, CASE WHEN m.id = $2 THEN 'debit' ELSE 'credit' END, 'transfer', $4, m.balance, $5, $6, $7
      FROM moved m
    RETURNING *),
  audit AS (
    INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type, subject_id,
                              ip, user_agent, request_id, data)
    SELECT 'operation.transfer', $7, $8, $9, 'transfer', $6::text, $10, $11, $12,
           jsonb_build_object('fromAccountId', $2::uuid, 'toAccountId', $3::uuid,
             'amount', ($4::numeric / 100)::numeric(20, 2)::text)
     WHERE EXISTS (SELECT 1 FROM legs))
  SELECT s.status AS src_status, s.currency AS src_currency, s.mine AS src_mine,
         s.balance - $4 >= -s.overdraft_limit AS src_covers, d.status AS dst_status, d.currency AS dst_currency, d.mine AS dst_mine, legs.*,
         CASE WHEN legs.account_id = s.id THEN d.number ELSE s.number END AS counterparty_number,
         CASE WHEN legs.id IS NOT NULL THEN (SELECT string_agg(hc.first_name || ' ' || hc.last_name, ' & ' ORDER BY hh.added_at, hc.id)
      FROM account_holders hh JOIN clients hc ON hc.id = hh.client_id WHERE hh.account_id = CASE WHEN legs.account_id = s.id THEN d.id ELSE s.id END) END AS counterparty_name
    FROM (SELECT 1) one LEFT JOIN src s ON true LEFT JOIN dst d ON true LEFT JOIN legs ON true;

COMMIT;

-- POST /api/v1/operations/:id/reverse
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

START TRANSACTION;

SELECT * FROM operations WHERE id = $1;

SELECT 1 FROM accounts WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE;

SELECT id, currency, balance, overdraft_limit, status FROM accounts WHERE id = ANY($1::uuid[]);

SELECT 1 FROM operations WHERE reversal_of = ANY($1::uuid[]) LIMIT 1;

WITH acc AS (UPDATE accounts SET balance = balance + $2, operation_count = operation_count + 1
                    WHERE id = $1 RETURNING id, balance),
            op AS (
              INSERT INTO operations (account_id, type, kind, amount, balance_after, description, transfer_id, reversal_of, performed_by)
              SELECT id, $3, $4, $5, balance, $6, $7, $8, $9 FROM acc RETURNING *)
       SELECT op.*, ca.number AS counterparty_number, (SELECT string_agg(hc.first_name || ' ' || hc.last_name, ' & ' ORDER BY hh.added_at, hc.id)
      FROM account_holders hh JOIN clients hc ON hc.id = hh.client_id WHERE hh.account_id = ca.id) AS counterparty_name
         FROM op LEFT JOIN accounts ca ON ca.id = $10::uuid;

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

COMMIT;

-- GET /api/v1/accounts/:id/operations
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ),
        acct AS (SELECT a.id, a.operation_count FROM accounts a, me WHERE a.id = $3::uuid AND ((CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid IS NULL OR EXISTS (
    SELECT 1 FROM account_holders vh WHERE vh.account_id = a.id AND vh.client_id = (CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid))),
        counted AS MATERIALIZED (SELECT acct.operation_count AS total FROM acct)
      SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, acct.id AS visible, counted.total, page.*
        FROM me LEFT JOIN acct ON true LEFT JOIN counted ON true LEFT JOIN LATERAL (
          SELECT pg.*, cp.counterparty_number, cp.counterparty_name FROM (
    SELECT o.id, o.seq, o.account_id, o.type, o.kind, o.amount, o.balance_after,
  o.description, o.transfer_id, o.reversal_of, o.performed_by, o.created_at,
  (SELECT r.id FROM operations r WHERE r.reversal_of = o.id) AS reversed_by FROM operations o WHERE acct.id IS NOT NULL AND o.account_id = $3::uuid
     ORDER BY o.created_at DESC, o.seq DESC
     LIMIT $4) pg
    LEFT JOIN LATERAL (
    SELECT ca.number AS counterparty_number, (SELECT string_agg(hc.first_name || ' ' || hc.last_name, ' & ' ORDER BY hh.added_at, hc.id)
      FROM account_holders hh JOIN clients hc ON hc.id = hh.client_id WHERE hh.account_id = ca.id) AS counterparty_name
      FROM operations t JOIN accounts ca ON ca.id = t.account_id
     WHERE t.transfer_id = pg.transfer_id AND t.id <> pg.id LIMIT 1) cp ON true
    ORDER BY pg.created_at DESC, pg.seq DESC) page ON true;

-- GET /api/v1/operations
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

SELECT pg.*, cp.counterparty_number, cp.counterparty_name FROM (
    SELECT o.id, o.seq, o.account_id, o.type, o.kind, o.amount, o.balance_after,
  o.description, o.transfer_id, o.reversal_of, o.performed_by, o.created_at,
  (SELECT r.id FROM operations r WHERE r.reversal_of = o.id) AS reversed_by FROM operations o WHERE o.seq > 0
     ORDER BY o.created_at DESC, o.seq DESC
     LIMIT $1) pg
    LEFT JOIN LATERAL (
    SELECT ca.number AS counterparty_number, (SELECT string_agg(hc.first_name || ' ' || hc.last_name, ' & ' ORDER BY hh.added_at, hc.id)
      FROM account_holders hh JOIN clients hc ON hc.id = hh.client_id WHERE hh.account_id = ca.id) AS counterparty_name
      FROM operations t JOIN accounts ca ON ca.id = t.account_id
     WHERE t.transfer_id = pg.transfer_id AND t.id <> pg.id LIMIT 1) cp ON true
    ORDER BY pg.created_at DESC, pg.seq DESC;

SELECT ((SELECT CASE WHEN n > 10000 THEN NULL ELSE n END FROM (SELECT count(*) FROM (SELECT 1 FROM operations o WHERE o.seq > 0 LIMIT $1) r) AS c(n))) AS total;

-- GET /api/v1/accounts/:id/statement
INSERT INTO statement_slots (user_id, slot, holder, expires_at)
       SELECT $1, s, $3, now() + make_interval(secs => $4)
         FROM generate_series(1, $2::int) s
        WHERE NOT EXISTS (SELECT 1 FROM statement_slots t
                           WHERE t.user_id = $1 AND t.slot = s AND t.expires_at > now())
        ORDER BY s LIMIT 1
       ON CONFLICT (user_id, slot) DO UPDATE
         SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
         WHERE statement_slots.expires_at <= now()
       RETURNING slot;

WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  )
       SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id, acct.* FROM me LEFT JOIN LATERAL (
         SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a WHERE a.id = $3 AND ((CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid IS NULL OR EXISTS (
    SELECT 1 FROM account_holders vh WHERE vh.account_id = a.id AND vh.client_id = (CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid))) acct ON true;

SELECT (SELECT o.balance_after FROM operations o WHERE o.account_id = $1 AND o.created_at < $2
                ORDER BY o.created_at DESC, o.seq DESC LIMIT 1) AS opening,
              (SELECT o.seq FROM operations o WHERE o.account_id = $1 AND o.created_at < $3
                ORDER BY o.created_at DESC, o.seq DESC LIMIT 1) AS last_seq;

WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $5 AND s.user_id = $6 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $5 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ),
         reader AS (SELECT 1 FROM accounts a, me WHERE a.id = $1 AND ((CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid IS NULL OR EXISTS (
    SELECT 1 FROM account_holders vh WHERE vh.account_id = a.id AND vh.client_id = (CASE WHEN me.role = 'customer' THEN me.client_id END)::uuid))),
         b AS (
           SELECT o.*, cp.counterparty_number, cp.counterparty_name,
                  (row_number() OVER (ORDER BY o.created_at, o.seq) - 1) / 100 AS part
             FROM (SELECT o.* FROM operations o
                    WHERE EXISTS (SELECT 1 FROM reader) AND o.account_id = $1 AND o.created_at >= $2
                    ORDER BY o.created_at, o.seq LIMIT $4) o
             LEFT JOIN LATERAL (
    SELECT ca.number AS counterparty_number, (SELECT string_agg(hc.first_name || ' ' || hc.last_name, ' & ' ORDER BY hh.added_at, hc.id)
      FROM account_holders hh JOIN clients hc ON hc.id = hh.client_id WHERE hh.account_id = ca.id) AS counterparty_name
      FROM operations t JOIN accounts ca ON ca.id = t.account_id
     WHERE t.transfer_id = o.transfer_id AND t.id <> o.id LIMIT 1) cp ON true
            WHERE (o.created_at, o.seq) <= ((SELECT c.created_at FROM operations c WHERE c.seq = $3 AND c.account_id = $1), $3))
       SELECT flag.allowed, p.*
         FROM (SELECT EXISTS (SELECT 1 FROM reader) AS allowed) flag
         LEFT JOIN LATERAL (
           SELECT b.part, count(*)::int AS n,
                  (array_agg(b.seq ORDER BY b.created_at DESC, b.seq DESC))[1] AS last_seq,
                  (array_agg(b.balance_after ORDER BY b.created_at DESC, b.seq DESC))[1] AS closing,
                  coalesce(sum(b.amount) FILTER (WHERE b.type = 'credit'), 0) AS credits,
                  coalesce(sum(b.amount) FILTER (WHERE b.type = 'debit'), 0) AS debits,
                  string_agg('{"id":"' || b.id || '","accountId":"' || b.account_id
    || '","type":"' || b.type || '","kind":"' || b.kind
    || '","amount":"' || money_text(b.amount) || '","balanceAfter":"' || money_text(b.balance_after)
    || '","description":' || coalesce(to_json(b.description)::text, 'null')
    || ',"transferId":' || coalesce('"' || b.transfer_id || '"', 'null')
    || ',"reversalOf":' || coalesce('"' || b.reversal_of || '"', 'null')
    || ',"reversedBy":' || coalesce('"' || (SELECT r.id FROM operations r WHERE r.reversal_of = b.id) || '"', 'null')
    || ',"counterparty":' || coalesce('{"accountNumber":"' || b.counterparty_number || '","name":'
         || coalesce(to_json(b.counterparty_name)::text, '""') || '}', 'null')
    || ',"performedBy":"' || b.performed_by || '","createdAt":"' || iso_instant(b.created_at) || '"}', ','
                             ORDER BY b.created_at, b.seq) AS body
             FROM b GROUP BY b.part) p ON true
        ORDER BY p.part;

DELETE FROM statement_slots WHERE user_id = $1 AND slot = $2 AND holder = $3;

-- GET /api/v1/clients?q=
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

SELECT c.* FROM clients c
          WHERE (lower(c.national_id) LIKE $1 OR lower(c.last_name) LIKE $1 OR lower(c.first_name) LIKE $1)
          ORDER BY c.last_name, c.first_name, c.id LIMIT $2 OFFSET $3;

SELECT CASE WHEN count(*) > 10000 THEN NULL ELSE count(*) END AS total
     FROM (SELECT 1 FROM clients c WHERE (lower(c.national_id) LIKE $1 OR lower(c.last_name) LIKE $1 OR lower(c.first_name) LIKE $1) LIMIT $2) capped;

-- POST /api/v1/accounts/:id/close
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

START TRANSACTION;

SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE;

SELECT * FROM accounts WHERE id = $1;

UPDATE "accounts" SET "status" = $1, "closed_at" = now() WHERE "id" = $2;

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);

COMMIT;

SELECT a.*, coalesce((
  SELECT json_agg(json_build_object('id', c.id, 'firstName', c.first_name, 'lastName', c.last_name)
                  ORDER BY h.added_at, c.id)
    FROM account_holders h JOIN clients c ON c.id = h.client_id WHERE h.account_id = a.id), '[]') AS holders FROM accounts a WHERE a.id = $1;

-- POST /api/v1/auth/logout
WITH me AS (
    SELECT u.id, u.username, u.role, u.client_id, s.last_used_at
      FROM sessions s JOIN users u ON u.id = s.user_id
     WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL
       AND s.expires_at > now() AND NOT u.disabled
  ), touched AS (
    UPDATE sessions SET last_used_at = now()
     WHERE id = $1 AND EXISTS (SELECT 1 FROM me WHERE last_used_at < now() - interval '60 seconds')
  ) SELECT me.id AS me_id, me.username AS me_username, me.role AS me_role, me.client_id AS me_client_id FROM me;

UPDATE "sessions" SET "revoked_at" = now(), "revoked_reason" = $1 WHERE "id" = $2 AND "revoked_at" IS NULL;

INSERT INTO audit_events (type, actor_id, actor_username, actor_role, subject_type,
  subject_id, outcome, reason, ip, user_agent, request_id, data)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb);
