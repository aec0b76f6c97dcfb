#!/usr/bin/env bash
# Anonymization speed on 2,100,000 customers (id, tenant_id, name, email,
# phone, ssn, created_at), in one run and one cluster:
#  1. in place: confiture.anonymize (name, email, phone) vs a hand-written
#     UPDATE of the same columns with md5() (goal: ratio <= 0.8, never > 1.0);
#  2. streaming: COPY (SELECT * FROM confiture.anonymized(...)) TO '/dev/null'
#     vs COPY of the same masking written with md5() (goal: throughput >= 0.8).
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
ROWS=${ROWS:-2100000}
REPS=${REPS:-3}
bench_cluster anon
load() {
    fresh_db "$1"
    psql -X -q -d "$1" -c "SET client_min_messages = warning" -c "
        CREATE TABLE customers (id bigint PRIMARY KEY, tenant_id int NOT NULL, name text, email text, phone text,
                                ssn text, created_at timestamptz NOT NULL);
        INSERT INTO customers SELECT g, g % 100, 'Customer ' || g, 'customer' || g || '@mail.test',
               '+1 555 ' || lpad((g % 10000000)::text, 7, '0'), lpad(g::text, 9, '0'), now()
          FROM generate_series(1, $ROWS) g;" -c "VACUUM ANALYZE customers" -c "
        SELECT confiture.create_profile('bench', 'bench-salt-0123456789abcdef');
        SELECT confiture.add_rule('bench', 'customers', 'name', 'name');
        SELECT confiture.add_rule('bench', 'customers', 'email', 'email');
        SELECT confiture.add_rule('bench', 'customers', 'phone', 'phone');" >/dev/null
}
timed() { # db sql -> seconds
    psql -X -q -d "$1" -c "CHECKPOINT" >/dev/null
    local t0 t1
    t0=$(now)
    psql -X -q -At -d "$1" -c "SET client_min_messages = warning" -c "$2" >/dev/null
    t1=$(now)
    calc "$t1 - $t0"
}
conf=() naive=() stream=() plain=()
for rep in $(seq "$REPS"); do
    load b_conf
    load b_naive
    conf+=("$(timed b_conf "SELECT * FROM confiture.anonymize('bench')")")
    naive+=("$(timed b_naive "UPDATE customers SET name = md5(name), email = md5(email), phone = md5(phone)")")
    stream+=("$(timed b_naive "COPY (SELECT * FROM confiture.anonymized(NULL::customers, 'bench')) TO '/dev/null'")")
    plain+=("$(timed b_naive "COPY (SELECT id, tenant_id, md5(name), md5(email), md5(phone), ssn, created_at FROM customers) TO '/dev/null'")")
    printf "  rep %d: anonymize %.2f s vs md5 UPDATE %.2f s | anonymized COPY %.2f s vs md5 COPY %.2f s\n" \
        "$rep" "${conf[-1]}" "${naive[-1]}" "${stream[-1]}" "${plain[-1]}"
done
mc=$(median "${conf[@]}") mn=$(median "${naive[@]}") ms=$(median "${stream[@]}") mp=$(median "${plain[@]}")
printf "anon: in place, %d rows: confiture.anonymize %.2f s vs md5 UPDATE %.2f s: time ratio %.3f (goal <= 0.8)\n" "$ROWS" "$mc" "$mn" "$(calc "$mc / $mn")"
printf "anon: streaming, %d rows: anonymized() %.0f rows/s vs md5 %.0f rows/s: throughput ratio %.3f (goal >= 0.8)\n" \
    "$ROWS" "$(calc "$ROWS / $ms")" "$(calc "$ROWS / $mp")" "$(calc "$mp / $ms")"
