//! The schema's one source of truth is the SQLite migrations (`sqlite/schema`); this turns
//! each of them into PostgreSQL's dialect, so both engines are migrated by the same
//! numbered list and reach the same tables, columns and indexes.
//!
//! What changes: `INTEGER PRIMARY KEY` becomes an identity column, `INTEGER` `BIGINT`,
//! `REAL` `DOUBLE PRECISION`, `BLOB` `BYTEA`; `WITHOUT ROWID` goes; every other table gets
//! the `rowid` column SQLite gives it implicitly (some queries order by insertion). The
//! `datetime('now')` defaults read the UTC clock in the same text form.
//!
//! Data repairs of rows written by older ctwiz versions (statements calling the Rust
//! functions `ctwiz_*` that SQLite connections register, or SQLite's `strftime`) are left
//! out: a PostgreSQL database is created by a version that never wrote such rows. A future
//! repair must be written so it runs on both.

/// PostgreSQL functions with SQLite's names (`datetime('now')`, `date(d, '+1 day')`,
/// two-argument `min`/`max`, `json_extract`, `group_concat`, `instr`), so statements
/// written once run on both (created with the schema, before the first migration).
pub const POSTGRES_COMPAT: &str = r#"
CREATE OR REPLACE FUNCTION datetime(text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN $1 = 'now'
        THEN to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')
        ELSE to_char($1::timestamp, 'YYYY-MM-DD HH24:MI:SS') END
$$;
CREATE OR REPLACE FUNCTION date(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char($1::date + $2::interval, 'YYYY-MM-DD')
$$;
CREATE OR REPLACE FUNCTION min(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT LEAST($1, $2)
$$;
CREATE OR REPLACE FUNCTION max(bigint, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT GREATEST($1, $2)
$$;
CREATE OR REPLACE FUNCTION json_extract(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT $1::json #>> string_to_array(substr($2, 3), '.')
$$;
CREATE OR REPLACE FUNCTION ctwiz_concat_step(text, text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN $2 IS NULL THEN $1 WHEN $1 IS NULL THEN $2 ELSE $1 || ',' || $2 END
$$;
CREATE OR REPLACE AGGREGATE group_concat(text) (SFUNC = ctwiz_concat_step, STYPE = text);
CREATE OR REPLACE FUNCTION instr(text, text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$
    SELECT strpos($1, $2)
$$;
"#;

/// One SQLite migration in PostgreSQL's dialect.
pub fn to_postgres(sqlite: &str) -> String {
    let mut out = String::new();
    for statement in statements(sqlite) {
        let s = statement.trim();
        if s.is_empty() || sqlite_only(s) {
            continue;
        }
        out.push_str(&statement_to_postgres(s));
        out.push_str(";\n");
    }
    out
}

/// A data repair that only SQLite databases can need (see the module doc).
fn sqlite_only(statement: &str) -> bool {
    let lower = statement.to_ascii_lowercase();
    let body = strip_comments(&lower);
    let body = body.trim_start();
    (body.starts_with("update") || body.starts_with("insert") || body.starts_with("delete"))
        && (body.contains("ctwiz_") || body.contains("strftime("))
}

fn strip_comments(sql: &str) -> String {
    sql.lines()
        .map(|l| match l.find("--") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Splits on `;` outside quotes.
fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut in_comment = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        cur.push(c);
        if in_comment {
            if c == '\n' {
                in_comment = false;
            }
            continue;
        }
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None => match c {
                '\'' | '"' => quote = Some(c),
                '-' if chars.peek() == Some(&'-') => in_comment = true,
                ';' => {
                    cur.pop();
                    out.push(std::mem::take(&mut cur));
                }
                _ => {}
            },
        }
    }
    out.push(cur);
    out
}

fn statement_to_postgres(s: &str) -> String {
    let body = strip_comments(s);
    let mut t = replace_words(&body);
    t = t.replace(
        "DEFAULT (datetime('now'))",
        "DEFAULT (to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'))",
    );
    let upper = t.to_ascii_uppercase();
    if upper.trim_start().starts_with("CREATE TABLE") {
        let without_rowid = upper.contains("WITHOUT ROWID");
        if let Some(i) = upper.rfind("WITHOUT ROWID") {
            t.replace_range(i..i + "WITHOUT ROWID".len(), "");
        }
        let has_integer_key = upper.contains("BIGINT PRIMARY KEY");
        t = t.replace(
            "BIGINT PRIMARY KEY",
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        );
        if !without_rowid && !has_integer_key {
            if let Some(close) = t.rfind(')') {
                t.insert_str(
                    close,
                    ",\n        rowid BIGINT GENERATED BY DEFAULT AS IDENTITY",
                );
            }
        }
    }
    t
}

/// Column types by whole word, outside quotes.
fn replace_words(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 32);
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let flush = |word: &mut String, out: &mut String| {
        out.push_str(match word.as_str() {
            "INTEGER" => "BIGINT",
            "REAL" => "DOUBLE PRECISION",
            "BLOB" => "BYTEA",
            w => w,
        });
        word.clear();
    };
    for c in sql.chars() {
        if let Some(q) = quote {
            out.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c);
            continue;
        }
        flush(&mut word, &mut out);
        if c == '\'' || c == '"' {
            quote = Some(c);
        }
        out.push(c);
    }
    flush(&mut word, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_get_postgres_types_and_an_implicit_rowid() {
        let pg = to_postgres(
            "CREATE TABLE a (id INTEGER PRIMARY KEY, x REAL, b BLOB, note TEXT DEFAULT 'INTEGER');
             -- a comment; with a semicolon
             CREATE TABLE g (user_id INTEGER NOT NULL, role TEXT, created TEXT NOT NULL DEFAULT (datetime('now')));
             CREATE TABLE k (a TEXT, b TEXT, PRIMARY KEY (a, b)) WITHOUT ROWID;
             UPDATE patients SET family_sx = ctwiz_soundex(family);",
        );
        assert!(
            pg.contains("id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
            "{pg}"
        );
        assert!(
            pg.contains("x DOUBLE PRECISION, b BYTEA, note TEXT DEFAULT 'INTEGER'"),
            "{pg}"
        );
        assert!(pg.contains("user_id BIGINT NOT NULL"), "{pg}");
        assert!(
            pg.contains("rowid BIGINT GENERATED BY DEFAULT AS IDENTITY)"),
            "{pg}"
        );
        assert!(pg.contains("to_char(now() AT TIME ZONE 'UTC'"), "{pg}");
        assert!(
            pg.contains("PRIMARY KEY (a, b))") && !pg.contains("ROWID"),
            "{pg}"
        );
        assert_eq!(pg.matches("rowid").count(), 1, "{pg}");
        assert!(!pg.contains("ctwiz_soundex"), "{pg}");
    }
}
